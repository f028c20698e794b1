"""The bot's Spanish: subcommand words, help, and the screening's headings.

Many of the pilot's manufacturers speak Spanish (issue 9, item 23). A person gets Spanish when
their Slack language is Spanish (`users.info` locale `es-*`) or when they type a Spanish
subcommand (`ayuda`, `elegible`, `estado`, `buscar`, `suscribir`). The screener's reasons for
each check are still English: they quote the County Code, and a translation the County has not
reviewed could mislead; the reply says so in one line.
"""

from __future__ import annotations

from subscribers.eligibility import Verdict

# Spanish subcommand -> the English one it means.
COMMAND_WORDS = {
    "ayuda": "help",
    "elegible": "eligible",
    "elegibilidad": "eligible",
    "revisar": "eligible",
    "preferencia": "preference",
    "estado": "status",
    "informe": "report",
    "reporte": "report",
    "buscar": "find",
    "suscribir": "subscribe",
    "suscribirme": "subscribe",
    "desuscribir": "unsubscribe",
    "baja": "unsubscribe",
    "campañas": "campaigns",
    "campanas": "campaigns",
}
CAMPAIGN_ACTIONS = {"pausar": "pause", "reanudar": "resume"}

GENERAL_HELP = """\
*/madeinla* responde preguntas sobre el programa piloto Made in Los Angeles del Condado de Los \
Ángeles. Solo usted ve las respuestas.
• `/madeinla elegible zip=90021 since=2019-03 employees=12 revenue=1.2M` ¿parece una empresa \
elegible para la preferencia del Condado para pequeñas empresas locales (LSBE) y para el piloto? \
`/madeinla elegible` solo abre un formulario.
• `/madeinla preferencia lowest=100000 bid=112000` la preferencia LSBE en una licitación.
• `/madeinla estado` en qué etapa está el piloto, quién se ha inscrito, qué hacen las campañas.
• `/madeinla informe` o `informe trimestre` las cifras del mes (o del trimestre) y el gráfico \
de inscripciones.
• `/madeinla buscar uniformes` fabricantes de nuestra lista que hacen un producto.
• `/madeinla suscribir` o `desuscribir` correo del grupo de trabajo a su dirección de Slack.
• `/madeinla campañas` campañas de correo próximas y recientes.
• `/madeinla ayuda elegible` o `/madeinla ayuda preferencia` todas las claves que puede dar.
Las claves (`zip=`, `employees=`...) se escriben en inglés; las respuestas sí/no aceptan `si` y `no`."""

SCREENING_KEYS = {
    "zip": "código postal del lugar principal de la empresa, 5 dígitos (90021 o 90021-1234)",
    "production_zip": "código postal donde se fabrican los productos (si no, el de zip)",
    "years": "años que el lugar principal lleva en el Condado de Los Ángeles (1, 2.5)",
    "since": "fecha desde la que está en el Condado (2019, 2019-03 o 2019-03-15)",
    "employees": "empleados, incluidas las afiliadas (42)",
    "revenue": "ingresos brutos anuales promedio de los últimos 3 años ($4.1M, 950k, 4100000)",
    "manufacturer": "fabrica principalmente productos nuevos a partir de materiales (si/no)",
    "naics": "código NAICS, de 2 a 6 dígitos (315250)",
    "ca_sb": "certificada como pequeña empresa por el Estado de California (si/no)",
    "other_cert": "certificación de pequeña empresa de otra agencia, LACC 2.204.030 D.3 (si/no)",
    "federally_funded": "la licitación tiene fondos federales que prohíben preferencias locales (si/no)",
    "federal_small": "pequeña según los estándares de la SBA y activa en SAM (si/no)",
    "garment": "hace trabajo de confección: coser, cortar, teñir, terminar, etiquetar (si/no)",
    "garment_registration": "registro de confección vigente ante el Comisionado Laboral (si/no)",
    "piece_rate": "paga a trabajadores de confección por pieza (si/no)",
    "wage_violations": "tiene fallos o citaciones salariales sin pagar (si/no)",
    "debarred": "inhabilitada por el Condado u otro gobierno (si/no)",
}
ELIGIBLE_INTRO = (
    "*`/madeinla elegible CLAVE=VALOR ...`* Conteste lo que sepa; lo que falte se trata como "
    "desconocido (las claves sí/no también aceptan `unknown` o `no sé`). Sin claves abre un formulario."
)
ELIGIBLE_EXAMPLE = "/madeinla elegible zip=90021 since=2019-03 employees=12 revenue=1.2M manufacturer=si"
PREFERENCE_INTRO = (
    "*`/madeinla preferencia CLAVE=VALOR ...`* La preferencia LSBE (LACC 2.204.060) en una licitación. "
    "Las tasas son porcentajes: `5%` o `5`. Claves (en inglés): `lowest`, `bid`, `type`, `requested`, "
    "`statute_rate`, `other_rate`, `purchase`, `amount`, `federal_conflict`."
)

VERDICT_WORDS = {
    Verdict.LOOKS_ELIGIBLE.words: "parece elegible",
    Verdict.NEEDS_REVIEW.words: "requiere revisión",
    Verdict.NOT_ELIGIBLE.words: "no elegible",
}
PROGRAM_TITLES = {
    "LSBE (Local Small Business Enterprise)": "LSBE (pequeña empresa local)",
    "Made in LA pilot (proposed rules)": "Piloto Made in LA (reglas propuestas)",
}
REASONS_IN_ENGLISH = "_Los motivos de cada requisito están en inglés, como los cita el Código del Condado._"
DISCLAIMER = "Esto es una evaluación preliminar, no una decisión del Condado. Solo el Condado certifica LSBE."


def screening_heading(line: str) -> str:
    """`LSBE (Local Small Business Enterprise): needs review` in Spanish; other lines unchanged."""
    title, sep, words = line.partition(": ")
    if sep and title in PROGRAM_TITLES and words in VERDICT_WORDS:
        return f"{PROGRAM_TITLES[title]}: {VERDICT_WORDS[words]}"
    return line


def say(language: str, english: str, spanish: str) -> str:
    """The text in the person's language ("es" or anything else: English)."""
    return spanish if language == "es" else english


def is_spanish_locale(locale: str) -> bool:
    return locale.lower().replace("_", "-").split("-")[0] == "es"


def screening_text(text: str) -> str:
    """The screener's text with its headings, labels and footer in Spanish (the reasons stay)."""
    lines = []
    for line in text.split("\n"):
        if line.startswith("Rules as of "):
            day = line.removeprefix("Rules as of ").split(" · ", 1)[0]
            line = f"Reglas vigentes al {day} · {DISCLAIMER}"
        elif line == "Next steps:":
            line = "Próximos pasos:"
        elif line.startswith("Note: "):
            line = "Nota: " + line.removeprefix("Note: ")
        else:
            line = screening_heading(line)
        lines.append(line)
    return "\n".join(lines)
