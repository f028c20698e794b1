"""One settings object for the whole service, read from the environment and an optional `.env`.

Nothing else reads the environment: the Slack app, the mailer and the database are all built from
this object, so a test (or a second process) can run with settings of its own.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from email.headerregistry import Address
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class SettingsError(Exception):
    """A setting has a bad value; the message names the variable and is fit to show a user."""


def _no_line_breaks(value: str, name: str) -> str:
    if any(ch in value for ch in "\r\n\0"):
        raise ValueError(f"{name} must be a single line")
    return value


DEFAULT_POSTAL_ADDRESS = (
    "Los Angeles County Department of Economic Opportunity, 510 S. Vermont Ave., Los Angeles, CA 90020"
)
DEFAULT_POSTAL_ADDRESS_ES = (
    "Departamento de Oportunidades Económicas del Condado de Los Ángeles, "
    "510 S. Vermont Ave., Los Angeles, CA 90020"
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""  # empty: SQLite file under DATA_DIR
    public_base_url: str = "http://127.0.0.1:8000"
    secret_key: SecretStr = SecretStr("")  # empty: generated once and kept under DATA_DIR
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    # Mail
    mail_from: str = "Made in LA Outreach <made-in-la@localhost>"
    mail_reply_to: str = ""
    postal_address: str = DEFAULT_POSTAL_ADDRESS
    # Spanish pages and emails; empty: the Spanish form of the default, or POSTAL_ADDRESS once set.
    postal_address_es: str = ""
    smtp_host: str = ""  # empty: write .eml files to OUTBOX_DIR instead of sending
    smtp_port: int = Field(default=0, ge=0, le=65535)  # 0: the usual port for SMTP_TLS
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_tls: Literal["none", "starttls", "tls"] = "starttls"
    smtp_timeout_seconds: float = Field(default=30, gt=0)
    outbox_dir: Path | None = None

    # Delivery engine
    smtp_pool_size: int = Field(default=4, ge=1, le=64)
    send_rate_per_minute: int = Field(default=0, ge=0)
    send_rate_per_hour: int = Field(default=0, ge=0)
    send_lease_seconds: int = Field(default=120, ge=5)
    send_batch_size: int = Field(default=200, ge=1, le=5000)
    retry_base_seconds: float = Field(default=5, gt=0)
    retry_for_hours: float = Field(default=72, gt=0)
    failure_pause_ratio: float = Field(default=0.10, gt=0, le=1)  # a campaign pauses itself above this
    failure_pause_min_attempts: int = Field(default=50, ge=1)
    schedule_grace_hours: float = Field(default=24, ge=0)  # a missed campaign is still sent within this
    sweep_interval_seconds: float = Field(default=15, gt=0)

    # Hearing back: bounces, complaints and auto-replies (outreach.bounces)
    bounce_address: str = ""  # envelope sender for VERP: bounces+TOKEN@domain; empty: MAIL_FROM
    bounce_imap_host: str = ""  # empty: no mailbox is read (use `madeinla bounces read`)
    bounce_imap_port: int = Field(default=993, ge=1, le=65535)
    bounce_imap_username: str = ""
    bounce_imap_password: SecretStr = SecretStr("")
    bounce_imap_tls: Literal["tls", "starttls", "none"] = "tls"
    bounce_imap_folder: str = "INBOX"
    bounce_imap_done_folder: str = "Processed"
    bounce_imap_unrecognised_folder: str = "Unrecognised"
    bounce_poll_seconds: float = Field(default=60, ge=1)  # without IDLE; with it, how often IDLE renews
    bounce_score_threshold: int = Field(default=3, ge=1)  # soft bounces (on different days) that bounce
    bounce_score_days: float = Field(default=14, gt=0)  # ... within this many days
    bounce_max_message_kb: int = Field(default=512, ge=16, le=65536)  # larger messages are read cut

    # Public form
    form_rate_limit_per_minute: int = Field(default=10, ge=0)  # 0 turns the limit off (benchmarks)
    confirm_token_max_age_hours: float = Field(default=72, gt=0)
    trusted_proxy_hops: int = Field(default=0, ge=0)  # X-Forwarded-For hops to trust for the client IP
    # Mail the form may send one inbox (plus-tags folded) and one domain; 0 turns a limit off.
    confirmations_per_mailbox_per_day: int = Field(default=5, ge=0)
    confirmations_per_domain_per_hour: int = Field(default=100, ge=0)

    # Pilot
    pilot_start_date: dt.date | None = None
    application_url: str = ""  # where invitation links lead; empty: PUBLIC_BASE_URL + "/apply"

    # Slack
    slack_signing_secret: SecretStr = SecretStr("")
    slack_bot_token: SecretStr = SecretStr("")
    slack_app_token: SecretStr = SecretStr("")
    slack_api_url: str = "https://slack.com/api/"
    slack_notify_channel: str = ""
    staff_slack_user_ids: Annotated[frozenset[str], NoDecode] = frozenset()

    # Staff console
    staff_session_idle_minutes: int = Field(default=60, ge=1, le=12 * 60)  # signed out after this idle
    staff_oidc_issuer: str = ""  # empty: sign-in by emailed link only
    staff_oidc_client_id: str = ""
    staff_oidc_client_secret: SecretStr = SecretStr("")
    # Who gets the weekly figures (Mondays 8:00 Los Angeles time): comma-separated addresses.
    staff_digest_email: Annotated[frozenset[str], NoDecode] = frozenset()
    # A campaign to more people than this needs a second person with the approver role; 0: every campaign.
    approval_threshold: int = Field(default=50, ge=0)

    @field_validator("staff_oidc_issuer")
    @classmethod
    def _check_issuer(cls, value: str) -> str:
        value = _no_line_breaks(value.strip(), "STAFF_OIDC_ISSUER").rstrip("/")
        if value and not value.startswith(("https://", "http://127.0.0.1", "http://localhost")):
            raise ValueError(
                "must be the identity provider's https:// address, like "
                "https://login.microsoftonline.com/<tenant id>/v2.0"
            )
        return value

    @field_validator("smtp_tls", "log_level", mode="before")
    @classmethod
    def _any_case(cls, value: object) -> object:
        # STARTTLS is how mail people write it; the choice is the same word in any case.
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("staff_digest_email", mode="before")
    @classmethod
    def _split_addresses(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        from subscribers.addresses import InvalidEmail, normalise_email

        addresses = set()
        for part in (part.strip() for part in value.split(",")):
            if not part:
                continue
            try:
                addresses.add(normalise_email(part))
            except InvalidEmail:
                raise ValueError(
                    f"{part!r} is not an email address (give addresses separated by commas)"
                ) from None
        return frozenset(addresses)

    @field_validator("staff_slack_user_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return frozenset(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("public_base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        value = _no_line_breaks(value.strip(), "PUBLIC_BASE_URL").rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://, like https://madeinla.example.gov")
        return value

    @field_validator("application_url")
    @classmethod
    def _check_application_url(cls, value: str) -> str:
        value = _no_line_breaks(value.strip(), "APPLICATION_URL")
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://, like https://example.gov/apply")
        return value

    @field_validator("mail_from", "mail_reply_to")
    @classmethod
    def _check_address(cls, value: str) -> str:
        value = _no_line_breaks(value.strip(), "address")
        if value:
            _name, addr = parseaddr(value)
            if "@" not in addr:
                raise ValueError(
                    f"{value!r} is not an email address, like 'Made in LA <madeinla@example.gov>'"
                )
        return value

    @field_validator("bounce_address")
    @classmethod
    def _check_bounce_address(cls, value: str) -> str:
        value = _no_line_breaks(value.strip(), "BOUNCE_ADDRESS")
        if value:
            local, at, domain = value.rpartition("@")
            if not at or not local or "." not in domain or any(c in value for c in " <>,;+\"'"):
                raise ValueError(
                    "must be a plain address without + or a name, like bounces@outreach.example.gov"
                )
        return value

    @field_validator(
        "bounce_imap_host",
        "bounce_imap_username",
        "bounce_imap_folder",
        "bounce_imap_done_folder",
        "bounce_imap_unrecognised_folder",
    )
    @classmethod
    def _imap_single_line(cls, value: str) -> str:
        return _no_line_breaks(value.strip(), "value")

    @field_validator("database_url")
    @classmethod
    def _check_db_url(cls, value: str) -> str:
        value = value.strip()
        if value and not value.startswith(("sqlite://", "postgres://", "postgresql://", "asyncpg://")):
            raise ValueError("must start with sqlite:// or postgres://")
        return value

    @field_validator(
        "smtp_host", "smtp_username", "postal_address", "postal_address_es", "slack_notify_channel"
    )
    @classmethod
    def _single_line(cls, value: str) -> str:
        return _no_line_breaks(value.strip(), "value")

    _given: frozenset[str] = PrivateAttr(default=frozenset())

    @model_validator(mode="after")
    def _fill_defaults(self) -> Settings:
        self._given = frozenset(self.model_fields_set)  # before the defaults below count as "set"
        if not self.database_url:
            self.database_url = f"sqlite://{(self.data_dir / 'madeinla.sqlite3').as_posix()}"
        if self.outbox_dir is None:
            self.outbox_dir = self.data_dir / "outbox"
        if not self.smtp_port:
            self.smtp_port = {"none": 25, "starttls": 587, "tls": 465}[self.smtp_tls]
        if not self.postal_address_es:
            # A Spanish page must not show an address staff replaced: theirs, untranslated, then.
            self.postal_address_es = (
                DEFAULT_POSTAL_ADDRESS_ES
                if self.postal_address == DEFAULT_POSTAL_ADDRESS
                else self.postal_address
            )
        if self.staff_oidc_issuer and not self.staff_oidc_client_id:
            raise ValueError("STAFF_OIDC_CLIENT_ID must be set when STAFF_OIDC_ISSUER is")
        return self

    # Derived values -------------------------------------------------------------------------------

    def is_given(self, name: str) -> bool:
        """Whether a setting came from the environment, .env or the caller, not from its default."""
        return name in self._given

    @property
    def staff_sso_enabled(self) -> bool:
        return bool(self.staff_oidc_issuer)

    @property
    def is_postgres(self) -> bool:
        return not self.database_url.startswith("sqlite://")

    @property
    def mail_from_address(self) -> Address:
        name, addr = parseaddr(self.mail_from)
        user, _, domain = addr.partition("@")
        return Address(display_name=name, username=user, domain=domain)

    def postal_address_for(self, language: str) -> str:
        """The postal address printed in a page's or an email's footer, in its language."""
        return self.postal_address_es if language == "es" else self.postal_address

    def secret(self) -> str:
        """The signing key: SECRET_KEY, or one generated on first use and kept in DATA_DIR."""
        given = self.secret_key.get_secret_value()
        if given:
            return given
        path = self.data_dir / "secret_key"
        if not path.exists():
            make_private_folder(path.parent)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48))
        return path.read_text().strip()


def make_private_folder(folder: Path) -> None:
    """Create `folder` and any missing parents readable by this user only (they hold personal data)."""
    for part in [*reversed(folder.parents), folder]:
        if not part.exists():
            part.mkdir(mode=0o700, exist_ok=True)


def _is_secret(name: str) -> bool:
    return any(word in name for word in ("SECRET", "PASSWORD", "TOKEN"))


def _plain_words(error: Any) -> str:
    """What pydantic's error means, in words for the person who set the variable."""
    kind = str(error["type"])
    ctx = error.get("ctx") or {}
    if kind == "literal_error":
        choices = str(ctx.get("expected", "")).replace("'", "")
        return f"must be one of {choices} (any case)"
    if kind.startswith(("date_", "datetime_")):
        return "must be a date written year-month-day, like 2027-01-04"
    if kind.startswith("int_"):
        return "must be a whole number, like 10"
    if kind.startswith("float_"):
        return "must be a number, like 2.5"
    if kind.startswith("bool_"):
        return "must be true or false"
    bounds = {
        "greater_than": "more than",
        "greater_than_equal": "at least",
        "less_than": "less than",
        "less_than_equal": "at most",
    }
    if kind in bounds:
        limit = next(iter(ctx.values()), "")
        shown = f"{limit:g}" if isinstance(limit, float) else str(limit)
        return f"must be {bounds[kind]} {shown}"
    return " ".join(str(error["msg"]).removeprefix("Value error, ").split())


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation failure into one line that names the variable."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        error = exc.errors()[0]
        if not error["loc"]:  # a rule across settings: its message names them
            raise SettingsError(_plain_words(error)) from None
        name = str(error["loc"][0]).upper()
        value = error.get("input")
        shown = "" if _is_secret(name) or not isinstance(value, (str, int, float)) else f" (got {value!r})"
        raise SettingsError(f"{name}: {_plain_words(error)}{shown}") from None
    if 0 < len(settings.secret_key.get_secret_value()) < 16:
        raise SettingsError("SECRET_KEY: must be at least 16 characters (leave it unset to generate one)")
    return settings
