"""SQLite serves one process: a second `serve` or a `worker` on the file is refused with one line,
and a staff member's import while `serve` takes sign-ups waits its turn instead of failing."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import httpx

from tests.service.process import clean_environment, madeinla, running_service
from tests.web.support import csrf_token, valid_form


def test_a_second_serving_process_is_refused(tmp_path: Path) -> None:
    """While one `serve` runs, a second `serve` and a `worker` stop at once with one clear line."""
    env = clean_environment(DATA_DIR=str(tmp_path / "data"))
    database = tmp_path / "data" / "madeinla.sqlite3"
    with running_service(env, tmp_path) as service:
        for args in (["serve", "--port", "1"], ["worker"]):
            result = madeinla(args, env, tmp_path, timeout=60)
            assert result.returncode == 2, result.stderr
            assert result.stderr.splitlines() == [
                f"Error: another madeinla serve or worker (process {service.process.pid}) is already using "
                f"the SQLite database {database}; SQLite allows one. Stop that one first, or use "
                "PostgreSQL (DATABASE_URL) to run several"
            ]
    # The lock goes with the process: a new serve starts once the first has stopped.
    with running_service(env, tmp_path):
        pass


def test_an_import_while_serve_takes_sign_ups_waits_its_turn(tmp_path: Path) -> None:
    """`madeinla subscribers import` of 3,000 people while the form takes a sign-up after another
    imports them all (it waits for the write lock rather than answering "the database was busy")."""
    env = clean_environment(DATA_DIR=str(tmp_path / "data"), FORM_RATE_LIMIT_PER_MINUTE="0")
    rows = "".join(f"person{i}@example.com,Person {i}\n" for i in range(3000))
    (tmp_path / "people.csv").write_text("email,name\n" + rows)
    stop = threading.Event()
    answers: list[int] = []

    def sign_ups(base: str) -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            token = csrf_token(client.get("/").text)
            while not stop.is_set():
                form = valid_form(email=f"visitor{len(answers)}@example.org", csrf_token=token)
                answers.append(client.post("/", data=form).status_code)

    with running_service(env, tmp_path) as service:
        form_filler = threading.Thread(target=sign_ups, args=(service.url,))
        form_filler.start()
        try:
            args = ["subscribers", "import", "people.csv", "--consent-source", "list"]
            imported = madeinla(args, env, tmp_path)
        finally:
            stop.set()
            form_filler.join()
    assert imported.returncode == 0, imported.stderr
    assert len(answers) > 10 and set(answers) == {303}
    with sqlite3.connect(tmp_path / "data" / "madeinla.sqlite3") as db:
        (count,) = db.execute("SELECT count(*) FROM subscriber WHERE email LIKE 'person%'").fetchone()
    assert count == 3000
