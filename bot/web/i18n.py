"""The words on the public pages, in English and Spanish, and how a page picks its language.

Short texts (labels, buttons, error messages) live here so that every error message exists in both
languages and a test can check that. Longer prose (what the pilot is, the privacy notice) lives in
`templates/web/content/<language>/`.
"""

from __future__ import annotations

from starlette.requests import Request

from bot.web import application_text

LANGUAGES = ("en", "es")
DEFAULT_LANGUAGE = "en"

EN: dict[str, str] = {
    "service_name": "Made in Los Angeles",
    "skip_link": "Skip to main content",
    "switch_language": "Español",
    "error_prefix": "Error: ",
    "there_is_a_problem": "There is a problem",
    "optional": "(optional)",
    "yes": "Yes",
    "no": "No",
    "privacy_link": "Privacy notice",
    "footer_run_by": "A pilot of the Los Angeles County Department of Economic Opportunity.",
    "error_label": "Error:",
    # Landing page and form
    "landing_title": "Get updates about the Made in Los Angeles pilot",
    "jump_to_form": "Go straight to the sign-up form",
    "form_heading": "Sign up for updates",
    "form_intro": "It takes about 2 minutes. Signing up is free. It is not an application.",
    "email_label": "Email address",
    "email_hint": "We will only use it to send you the emails you choose.",
    "name_label": "Your name",
    "organization_label": "Your business or organization",
    "role_legend": "Which of these describes you best?",
    "role_manufacturer": "I own or work for a business that makes goods (a manufacturer)",
    "role_working_group": "I am a member of the pilot's working group",
    "role_county_staff": "I work for Los Angeles County",
    "role_other": "Something else, for example a business group or a worker group",
    "topics_legend": "What do you want to hear about?",
    "topics_hint": "Choose at least one.",
    "topic_pilot_updates": "News about the pilot",
    "topic_application_invitations": "An invitation to apply when the pilot opens",
    "topic_working_group": "Working group meetings and news",
    "language_legend": "Which language should we write to you in?",
    "business_legend": "If you are a manufacturer: about your business",
    "business_hint": (
        "This helps us tell you if your business may be able to take part. "
        "All of these questions are optional. Skip them if you are not a manufacturer."
    ),
    "legal_name_label": "Legal name of the business",
    "principal_zip_label": "ZIP code of your main place of business",
    "production_zip_label": "ZIP code where you make your goods",
    "zip_hint": "5 digits, like 90021",
    "products_label": "What do you make?",
    "products_hint": "For example: uniforms, face masks, tortillas",
    "naics_label": "NAICS code",
    "naics_hint": "2 to 6 digits, like 315250. If you do not know it, leave this blank.",
    "employees_label": "How many people work for your business?",
    "years_label": "How many years has your business been in Los Angeles County?",
    "whole_number_hint": "A whole number, like 12",
    "ca_small_business_legend": "Is your business certified as a small business by the State of California?",
    "garment_work_legend": "Does your business sew, cut or finish clothes (garment work)?",
    "consent_legend": "Your agreement",
    "privacy_short": (
        "We keep your answers to send you these emails and to plan the pilot. "
        "We do not track when you open our emails. Read our"
    ),
    "privacy_short_link": "privacy notice",
    "submit_signup": "Sign up",
    # Check your email
    "check_title": "Check your email",
    "check_sent_to": "We have sent an email to",
    "check_sent_to_yours": "We have sent an email to the address you gave us.",
    "check_next": "Open the email and select the link to confirm that you want updates.",
    "check_spam": (
        "If the email has not arrived in 10 minutes, look in your spam or junk folder. "
        "The link in the email works for {duration}."
    ),
    "check_wrong": "Typed your email address wrong?",
    "check_again": "Sign up again",
    # Confirm
    "confirm_title": "Confirm your sign-up",
    "confirm_text": "Select the button to start getting emails about the Made in Los Angeles pilot.",
    "confirm_button": "Confirm my sign-up",
    "confirmed_title": "You are signed up",
    "confirmed_text": "Thank you. We will email you about the topics you chose.",
    "manage_link": "Change your topics or language",
    # Preferences
    "preferences_title": "Your email preferences",
    "preferences_intro": "Change your details, what we email you about, and in which language.",
    "preferences_saved": "Your preferences are saved.",
    "preferences_button": "Save my preferences",
    "preferences_unsubscribe_hint": "Do not want any emails from us?",
    "preferences_inactive": "You are not signed up for emails at the moment.",
    "preferences_pending": (
        "You have not confirmed your sign-up yet. Look for our email and select the link in it."
    ),
    "preferences_business_legend": "About your business",
    "preferences_business_hint": (
        "County buyers see your ZIP code and what you make when they look for local manufacturers."
    ),
    "preferences_email_legend": "Your email address",
    "preferences_email_now": "We send your emails to",
    "new_email_label": "New email address",
    "new_email_hint": (
        "Only if you want our emails at another address. We will send a link to it, and your emails "
        "keep going to the address above until you open that link."
    ),
    "email_sent_to": (
        "We have sent a link to {address}. Open it to get our emails there. Until then, we keep "
        "sending them to {current}. The link works for {duration}."
    ),
    "email_sent_to_yours": (
        "We have sent a link to your new address. Open it to get our emails there. Until then, we "
        "keep sending them to {current}. The link works for {duration}."
    ),
    "email_changed": "Your email address is changed. We now send your emails to {current}.",
    # A new email address
    "email_change_title": "Confirm your new email address",
    "email_change_text": "Select the button and we will send our emails to",
    "email_change_button": "Use this email address",
    "email_taken_title": "This email address already gets our emails",
    "email_taken_text": (
        "This address is already signed up for our emails, so we did not move another sign-up to it. "
        "Your emails keep going where they did. To stop getting them twice, unsubscribe from one of "
        "them with the link in its emails."
    ),
    "bad_email_link_text": (
        "The link may be too old, or you may have asked for another address since. Links to confirm "
        "a new address work for {duration}. To try again, open your preferences from one of our emails."
    ),
    # Unsubscribe
    "unsubscribe_title": "Unsubscribe from Made in Los Angeles emails",
    "unsubscribe_text": "Select the button and we will stop sending you emails about the pilot.",
    "unsubscribe_button": "Unsubscribe",
    "unsubscribe_instead": "Or change your topics instead",
    "unsubscribed_title": "You are unsubscribed",
    "unsubscribed_text": "We will not send you any more emails about the Made in Los Angeles pilot.",
    "unsubscribed_again": "Changed your mind? You can sign up again.",
    # Problems
    "bad_link_title": "This link does not work",
    "bad_link_text": (
        "The link may be too old, or some of it may be missing. "
        "Links to confirm a sign-up work for {duration}."
    ),
    "bad_link_next": "You can sign up again. It only takes 2 minutes.",
    "old_link_text": (
        "The link is too old. To stop our emails, use the unsubscribe link in our most recent email, "
        "or write to us at {contact}."
    ),
    "bad_manage_link_text": (
        "Some of the link may be missing or changed. Open it again from the email, or copy the whole "
        "link into your browser. To stop our emails, you can also write to us at {contact}."
    ),
    "err_too_many": (
        "You have sent this form too many times in a short time, so we have not saved it yet. "
        "Your answers are still here: wait {seconds} seconds, then send the form again."
    ),
    "too_many_title": "Too many tries",
    "too_many_text": (
        "You have sent this form too many times in a short time. Wait {seconds} seconds and try again."
    ),
    "unreadable_title": "We could not read your form",
    "unreadable_text": (
        "Your browser sent something we could not read. Go back to the form, check your answers, "
        "and try again."
    ),
    "too_big_title": "Your form is too long",
    "too_big_text": "Your answers are longer than we can accept. Go back, shorten them, and try again.",
    "not_found_title": "Page not found",
    "not_found_text": "If you typed the web address, check it is correct.",
    "method_not_allowed_title": "This page cannot do that",
    "method_not_allowed_text": (
        "Your browser asked this page for something it does not do. Open the page from its link "
        "or from the sign-up form and use its buttons."
    ),
    "server_error_title": "Sorry, there is a problem with the service",
    "server_error_text": "Try again later. Your answers have not been saved.",
    "back_to_form": "Go to the sign-up form",
    # Privacy
    "privacy_title": "Privacy notice",
    # Field errors
    "err_email_missing": "Enter your email address",
    "err_email_format": "Enter an email address in the correct format, like name@example.com",
    "err_email_too_long": "Your email address must be 254 characters or fewer",
    "err_email_non_ascii": (
        "The part of your email address before the @ can use only unaccented letters (a to z), "
        "digits and . _ - +"
    ),
    "err_name_too_long": "Your name must be 200 characters or fewer",
    "err_name_characters": "Enter your name on one line, without web addresses or special characters",
    "err_name_starts_with": "Your name cannot start with =, +, - or @",
    "err_organization_too_long": "The name of your business or organization must be 200 characters or fewer",
    "err_organization_characters": (
        "Enter the name of your business or organization on one line, without web addresses "
        "or special characters"
    ),
    "err_organization_starts_with": (
        "The name of your business or organization cannot start with =, +, - or @"
    ),
    "err_role_missing": "Select which of these describes you best",
    "err_topics_missing": "Select at least one topic",
    "err_preferences_topics_missing": "Select at least one topic, or unsubscribe to stop all emails",
    "err_language_missing": "Select the language we should write to you in",
    "err_consent_missing": "Check the box to agree that we can email you",
    "err_legal_name_too_long": "The legal name must be 200 characters or fewer",
    "err_legal_name_characters": (
        "Enter the legal name on one line, without web addresses or special characters"
    ),
    "err_legal_name_starts_with": "The legal name cannot start with =, +, - or @",
    "err_principal_zip_format": "Enter the ZIP code of your main place of business as 5 digits, like 90021",
    "err_production_zip_format": "Enter the ZIP code where you make your goods as 5 digits, like 90021",
    "err_products_too_long": "What you make must be 2,000 characters or fewer",
    "err_products_characters": "Enter what you make without web addresses or special characters",
    "err_naics_format": "Enter a NAICS code of 2 to 6 digits, like 315250, or leave it blank",
    "err_employees_format": (
        "Enter the number of people who work for your business as a whole number, like 12"
    ),
    "err_employees_range": "The number of people who work for your business must be between 0 and 100,000",
    "err_years_in_county_format": "Enter the number of years as a whole number, like 5",
    "err_years_in_county_range": "The number of years must be between 0 and 150",
    "err_ca_small_business_choice": (
        "Select yes or no for California small business certification, or leave it blank"
    ),
    "err_garment_work_choice": "Select yes or no for garment work, or leave it blank",
    "err_csrf": (
        "Your form timed out, so we did not save it. Check your answers and send it again. "
        "If this keeps happening, allow cookies for this website."
    ),
}

ES: dict[str, str] = {
    "service_name": "Made in Los Angeles",
    "skip_link": "Ir al contenido principal",
    "switch_language": "English",
    "error_prefix": "Error: ",
    "there_is_a_problem": "Hay un problema",
    "optional": "(opcional)",
    "yes": "Sí",
    "no": "No",
    "privacy_link": "Aviso de privacidad",
    "footer_run_by": (
        "Un programa piloto del Departamento de Oportunidades Económicas del Condado de Los Ángeles."
    ),
    "error_label": "Error:",
    "landing_title": "Reciba noticias del programa piloto Made in Los Angeles",
    "jump_to_form": "Ir directo al formulario de inscripción",
    "form_heading": "Inscríbase para recibir noticias",
    "form_intro": "Toma unos 2 minutos. Inscribirse es gratis. No es una solicitud.",
    "email_label": "Correo electrónico",
    "email_hint": "Solo lo usaremos para enviarle los correos que usted elija.",
    "name_label": "Su nombre",
    "organization_label": "Su negocio u organización",
    "role_legend": "¿Qué opción le describe mejor?",
    "role_manufacturer": "Tengo un negocio que fabrica productos, o trabajo en uno (un fabricante)",
    "role_working_group": "Soy miembro del grupo de trabajo del programa piloto",
    "role_county_staff": "Trabajo para el Condado de Los Ángeles",
    "role_other": "Otra cosa, por ejemplo una asociación de empresas o de trabajadores",
    "topics_legend": "¿Sobre qué quiere recibir noticias?",
    "topics_hint": "Elija al menos uno.",
    "topic_pilot_updates": "Noticias sobre el programa piloto",
    "topic_application_invitations": "Una invitación para presentar su solicitud cuando abra el programa",
    "topic_working_group": "Reuniones y noticias del grupo de trabajo",
    "language_legend": "¿En qué idioma quiere que le escribamos?",
    "business_legend": "Si usted es fabricante: sobre su negocio",
    "business_hint": (
        "Esto nos ayuda a decirle si su negocio podría participar. "
        "Todas estas preguntas son opcionales. Sáltelas si usted no es fabricante."
    ),
    "legal_name_label": "Nombre legal del negocio",
    "principal_zip_label": "Código postal (ZIP) del lugar principal de su negocio",
    "production_zip_label": "Código postal (ZIP) donde fabrica sus productos",
    "zip_hint": "5 dígitos, como 90021",
    "products_label": "¿Qué fabrica?",
    "products_hint": "Por ejemplo: uniformes, cubrebocas, tortillas",
    "naics_label": "Código NAICS",
    "naics_hint": "De 2 a 6 dígitos, como 315250. Si no lo sabe, déjelo en blanco.",
    "employees_label": "¿Cuántas personas trabajan en su negocio?",
    "years_label": "¿Cuántos años lleva su negocio en el Condado de Los Ángeles?",
    "whole_number_hint": "Un número entero, como 12",
    "ca_small_business_legend": (
        "¿Está su negocio certificado como pequeña empresa por el Estado de California?"
    ),
    "garment_work_legend": "¿Su negocio cose, corta o termina ropa (confección)?",
    "consent_legend": "Su autorización",
    "privacy_short": (
        "Guardamos sus respuestas para enviarle estos correos y para planear el programa piloto. "
        "No registramos cuándo abre nuestros correos. Lea nuestro"
    ),
    "privacy_short_link": "aviso de privacidad",
    "submit_signup": "Inscribirme",
    "check_title": "Revise su correo",
    "check_sent_to": "Le enviamos un correo a",
    "check_sent_to_yours": "Le enviamos un correo a la dirección que nos dio.",
    "check_next": "Abra el correo y seleccione el enlace para confirmar que quiere recibir noticias.",
    "check_spam": (
        "Si el correo no ha llegado en 10 minutos, busque en su carpeta de correo no deseado (spam). "
        "El enlace del correo funciona durante {duration}."
    ),
    "check_wrong": "¿Escribió mal su correo electrónico?",
    "check_again": "Inscribirse otra vez",
    "confirm_title": "Confirme su inscripción",
    "confirm_text": (
        "Seleccione el botón para empezar a recibir correos sobre el programa piloto Made in Los Angeles."
    ),
    "confirm_button": "Confirmar mi inscripción",
    "confirmed_title": "Su inscripción está confirmada",
    "confirmed_text": "Gracias. Le enviaremos correos sobre los temas que eligió.",
    "manage_link": "Cambiar mis temas o mi idioma",
    "preferences_title": "Sus preferencias de correo",
    "preferences_intro": "Cambie sus datos, sobre qué le escribimos y en qué idioma.",
    "preferences_saved": "Guardamos sus preferencias.",
    "preferences_button": "Guardar mis preferencias",
    "preferences_unsubscribe_hint": "¿No quiere recibir ningún correo nuestro?",
    "preferences_inactive": "En este momento no tiene una inscripción activa para recibir correos.",
    "preferences_pending": (
        "Todavía no ha confirmado su inscripción. Busque nuestro correo y seleccione el enlace."
    ),
    "preferences_business_legend": "Sobre su negocio",
    "preferences_business_hint": (
        "Los compradores del Condado ven su código postal y lo que fabrica cuando buscan fabricantes locales."
    ),
    "preferences_email_legend": "Su correo electrónico",
    "preferences_email_now": "Le enviamos sus correos a",
    "new_email_label": "Nuevo correo electrónico",
    "new_email_hint": (
        "Solo si quiere recibir nuestros correos en otra dirección. Le enviaremos un enlace a esa "
        "dirección, y sus correos seguirán llegando a la dirección de arriba hasta que abra el enlace."
    ),
    "email_sent_to": (
        "Le enviamos un enlace a {address}. Ábralo para recibir nuestros correos allí. Mientras tanto, "
        "se los seguiremos enviando a {current}. El enlace funciona durante {duration}."
    ),
    "email_sent_to_yours": (
        "Le enviamos un enlace a su nueva dirección. Ábralo para recibir nuestros correos allí. "
        "Mientras tanto, se los seguiremos enviando a {current}. El enlace funciona durante {duration}."
    ),
    "email_changed": "Cambiamos su correo electrónico. Ahora le enviamos sus correos a {current}.",
    "email_change_title": "Confirme su nuevo correo electrónico",
    "email_change_text": "Seleccione el botón y le enviaremos nuestros correos a",
    "email_change_button": "Usar este correo electrónico",
    "email_taken_title": "Este correo electrónico ya recibe nuestros correos",
    "email_taken_text": (
        "Esta dirección ya tiene una inscripción para recibir nuestros correos, así que no le pasamos "
        "otra inscripción. Sus correos siguen llegando como antes. Para no recibirlos dos veces, "
        "cancele una de las suscripciones con el enlace que aparece en sus correos."
    ),
    "bad_email_link_text": (
        "Puede que el enlace sea muy antiguo o que haya pedido otra dirección después. Los enlaces para "
        "confirmar una nueva dirección funcionan durante {duration}. Para intentarlo otra vez, abra sus "
        "preferencias desde uno de nuestros correos."
    ),
    "unsubscribe_title": "Cancelar los correos de Made in Los Angeles",
    "unsubscribe_text": "Seleccione el botón y dejaremos de enviarle correos sobre el programa piloto.",
    "unsubscribe_button": "Cancelar mi suscripción",
    "unsubscribe_instead": "O cambie sus temas",
    "unsubscribed_title": "Canceló su suscripción",
    "unsubscribed_text": "No le enviaremos más correos sobre el programa piloto Made in Los Angeles.",
    "unsubscribed_again": "¿Cambió de opinión? Puede inscribirse otra vez.",
    "bad_link_title": "Este enlace no funciona",
    "bad_link_text": (
        "Puede que el enlace sea muy antiguo o que le falte una parte. "
        "Los enlaces para confirmar una inscripción funcionan durante {duration}."
    ),
    "bad_link_next": "Puede inscribirse otra vez. Solo toma 2 minutos.",
    "old_link_text": (
        "El enlace es muy antiguo. Para dejar de recibir nuestros correos, use el enlace para cancelar "
        "que aparece en nuestro correo más reciente, o escríbanos a {contact}."
    ),
    "bad_manage_link_text": (
        "Puede que al enlace le falte una parte o que esté cambiado. Ábralo otra vez desde el correo o "
        "copie el enlace completo en su navegador. Para dejar de recibir nuestros correos, también "
        "puede escribirnos a {contact}."
    ),
    "err_too_many": (
        "Envió este formulario demasiadas veces en poco tiempo, así que todavía no lo guardamos. "
        "Sus respuestas siguen aquí: espere {seconds} segundos y envíe el formulario otra vez."
    ),
    "too_many_title": "Demasiados intentos",
    "too_many_text": (
        "Envió este formulario demasiadas veces en poco tiempo. Espere {seconds} segundos e intente otra vez."
    ),
    "unreadable_title": "No pudimos leer su formulario",
    "unreadable_text": (
        "Su navegador envió algo que no pudimos leer. Regrese al formulario, revise sus respuestas "
        "e intente otra vez."
    ),
    "too_big_title": "Su formulario es demasiado largo",
    "too_big_text": (
        "Sus respuestas son más largas de lo que podemos aceptar. Regrese, acórtelas e intente otra vez."
    ),
    "not_found_title": "No encontramos la página",
    "not_found_text": "Si escribió la dirección, revise que esté bien escrita.",
    "method_not_allowed_title": "Esta página no puede hacer eso",
    "method_not_allowed_text": (
        "Su navegador le pidió a esta página algo que no hace. Abra la página desde su enlace o "
        "desde el formulario de inscripción y use sus botones."
    ),
    "server_error_title": "Lo sentimos, hay un problema con el servicio",
    "server_error_text": "Intente más tarde. No guardamos sus respuestas.",
    "back_to_form": "Ir al formulario de inscripción",
    "privacy_title": "Aviso de privacidad",
    "err_email_missing": "Escriba su correo electrónico",
    "err_email_format": "Escriba un correo electrónico con el formato correcto, como nombre@ejemplo.com",
    "err_email_too_long": "Su correo electrónico debe tener 254 caracteres o menos",
    "err_email_non_ascii": (
        "La parte de su correo electrónico antes de la @ solo puede tener letras sin acentos ni eñes, "
        "números y . _ - +"
    ),
    "err_name_too_long": "Su nombre debe tener 200 caracteres o menos",
    "err_name_characters": "Escriba su nombre en una línea, sin direcciones web ni caracteres especiales",
    "err_name_starts_with": "Su nombre no puede empezar con =, +, - o @",
    "err_organization_too_long": "El nombre de su negocio u organización debe tener 200 caracteres o menos",
    "err_organization_characters": (
        "Escriba el nombre de su negocio u organización en una línea, sin direcciones web "
        "ni caracteres especiales"
    ),
    "err_organization_starts_with": (
        "El nombre de su negocio u organización no puede empezar con =, +, - o @"
    ),
    "err_role_missing": "Seleccione la opción que le describe mejor",
    "err_topics_missing": "Seleccione al menos un tema",
    "err_preferences_topics_missing": (
        "Seleccione al menos un tema, o cancele su suscripción para no recibir ningún correo"
    ),
    "err_language_missing": "Seleccione el idioma en que quiere que le escribamos",
    "err_consent_missing": "Marque la casilla para aceptar que le enviemos correos",
    "err_legal_name_too_long": "El nombre legal debe tener 200 caracteres o menos",
    "err_legal_name_characters": (
        "Escriba el nombre legal en una línea, sin direcciones web ni caracteres especiales"
    ),
    "err_legal_name_starts_with": "El nombre legal no puede empezar con =, +, - o @",
    "err_principal_zip_format": (
        "Escriba el código postal del lugar principal de su negocio con 5 dígitos, como 90021"
    ),
    "err_production_zip_format": (
        "Escriba el código postal donde fabrica sus productos con 5 dígitos, como 90021"
    ),
    "err_products_too_long": "Lo que fabrica debe tener 2,000 caracteres o menos",
    "err_products_characters": "Escriba lo que fabrica sin direcciones web ni caracteres especiales",
    "err_naics_format": "Escriba un código NAICS de 2 a 6 dígitos, como 315250, o déjelo en blanco",
    "err_employees_format": (
        "Escriba el número de personas que trabajan en su negocio como número entero, como 12"
    ),
    "err_employees_range": "El número de personas que trabajan en su negocio debe estar entre 0 y 100,000",
    "err_years_in_county_format": "Escriba el número de años como número entero, como 5",
    "err_years_in_county_range": "El número de años debe estar entre 0 y 150",
    "err_ca_small_business_choice": (
        "Seleccione sí o no para la certificación de pequeña empresa de California, o déjelo en blanco"
    ),
    "err_garment_work_choice": "Seleccione sí o no para el trabajo de confección, o déjelo en blanco",
    "err_csrf": (
        "Su formulario expiró y no lo guardamos. Revise sus respuestas y envíelo otra vez. "
        "Si esto sigue pasando, permita las cookies para este sitio web."
    ),
}

# The application's own words (a long form of its own: bot/web/application_text.py).
EN.update(application_text.EN)
ES.update(application_text.ES)

CATALOGUES = {"en": EN, "es": ES}
LANGUAGE_NAMES = {"en": "English", "es": "Español"}


def texts(language: str) -> dict[str, str]:
    return CATALOGUES.get(language, EN)


def duration(language: str, hours: float) -> str:
    """How long a link works, in words: "3 days", "24 hours" (whole days from two days up)."""
    whole = round(hours)
    if whole >= 48 and whole % 24 == 0:
        return f"{whole // 24} {'días' if language == 'es' else 'days'}"
    if whole == 1:
        return "1 hora" if language == "es" else "1 hour"
    return f"{whole} {'horas' if language == 'es' else 'hours'}"


def other_language(language: str) -> str:
    return "es" if language == "en" else "en"


def page_language(request: Request, preferred: str | None = None) -> str:
    """The page's language: `?lang=`, else the person's own (token pages), else the browser's."""
    asked = request.query_params.get("lang", "")
    if asked in LANGUAGES:
        return asked
    if preferred is not None and preferred in LANGUAGES:
        return preferred
    return from_accept_language(request.headers.get("accept-language", ""))


def from_accept_language(header: str) -> str:
    """The first of our languages the browser ranks highest (ties go to the one listed first)."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for part in header.split(",")[:20]:
        tag, _, params = part.strip().partition(";")
        code = tag.strip().lower().split("-", 1)[0]
        if code not in LANGUAGES:
            continue
        q = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                q = float(params[2:])
            except ValueError:
                continue
        if q > best_q:
            best, best_q = code, q
    return best
