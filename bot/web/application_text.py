"""The application's words, in English and Spanish: labels, hints, and an error for every rule.

Merged into `bot.web.i18n`'s catalogues (so the error summary and the fields read them like every
other page's); kept here because the application is a long form of its own. The error keys are
the ones `subscribers.applications.check_answers` returns: `app_err_<field>_<problem>`.
"""

from __future__ import annotations

EN: dict[str, str] = {
    "app_title": "Apply to the Made in Los Angeles pilot",
    "app_intro": (
        "The pilot helps manufacturers in Los Angeles County sell to County departments. The "
        "application takes about 20 minutes. You can save it and finish later."
    ),
    "app_need": "Have these at hand: your business address and ZIP codes, your number of workers, "
    "your NAICS code if you know it, and, if you do garment work, your garment registration number.",
    "app_start_heading": "Start or continue your application",
    "app_start_hint": "We will email you a personal link to your application. Nobody needs an account.",
    "app_start_button": "Email me my application link",
    "app_language_legend": "Which language should we write to you in?",
    "app_sent_title": "Check your email",
    "app_sent_text": (
        "If the address is right, a link to your application is on its way to {email}. Open it to "
        "fill in your application. The link keeps working, so you can come back to it."
    ),
    "app_sent_none": "A link to your application is on its way. Open it to fill in your application.",
    "app_sent_spam": "Nothing after 10 minutes? Look in your spam or junk folder, or try again.",
    "app_form_intro": "Questions marked (optional) can be left blank. Everything else is needed to submit.",
    "app_saved": "Your answers are saved. We emailed you the link to come back to them.",
    "app_saved_errors": "Your answers are saved, but some need a change before you can submit.",
    "app_request_heading": "DEO staff asked for more information",
    "app_section_business": "Your business",
    "app_section_products": "What you make",
    "app_section_labor": "Labor standards",
    "app_section_labor_hint": (
        "The pilot is for businesses that follow California's labor laws. Answer for your business "
        "and the businesses it works with to make its goods."
    ),
    "app_section_contact": "Contact",
    "app_legal_name_label": "Legal name of the business",
    "app_dba_label": "Name you do business as (DBA), if different",
    "app_principal_address_label": "Address of your main place of business",
    "app_principal_address_hint": "Street and city. This is where the business is run from.",
    "app_principal_zip_label": "ZIP code of your main place of business",
    "app_zip_hint": "5 digits, like 90021",
    "app_production_sites_label": "Addresses where you make your goods, if different",
    "app_production_sites_hint": "One address on each line.",
    "app_production_zips_label": "ZIP codes where you make your goods",
    "app_production_zips_hint": "5 digits each, separated by spaces, like 90021 90011",
    "app_years_in_county_label": "How many years has your main place of business been in Los Angeles County?",
    "app_years_hint": "A number, like 3 or 2.5",
    "app_employees_label": "How many people work for your business, including affiliates?",
    "app_employees_hint": (
        "Full-time and part-time, plus the workers of businesses that own yours or that yours owns "
        "(affiliates). A whole number, like 12."
    ),
    "app_revenue_band_legend": "Average yearly gross receipts over the last 3 years, including affiliates",
    "app_revenue_under_1m": "Under $1 million",
    "app_revenue_1m_5m": "$1 million to $5 million",
    "app_revenue_5m_15m": "$5 million to $15 million",
    "app_revenue_over_15m": "Over $15 million",
    "app_naics_label": "NAICS code",
    "app_naics_hint": "2 to 6 digits, like 315250. Leave it blank if you do not know it.",
    "app_cert_ca_sb_legend": "Is your business certified as a small business by the State of California?",
    "app_cert_lsbe_legend": (
        "Is your business certified by Los Angeles County as a Local Small Business Enterprise (LSBE)?"
    ),
    "app_cert_other_label": "Other small-business certifications, and the agency that gave each",
    "app_cert_other_hint": "For example: City of Los Angeles, Metro, U.S. SBA.",
    "app_products_label": "What do you make?",
    "app_products_hint": "In your own words, for example: work uniforms, tortillas, metal shelving.",
    "app_category_label": "Which kind of goods is closest to what you make?",
    "app_category_choose": "Choose one",
    "app_capacity_label": "How much could you supply to a County department?",
    "app_capacity_hint": "For example: 2,000 shirts a month, or 500 dozen tortillas a week.",
    "app_garment_work_legend": (
        "Does your business do garment work: sewing, cutting, dyeing, finishing or labeling clothing?"
    ),
    "app_hourly_wage_legend": "Do you pay every worker at least the minimum wage, by the hour?",
    "app_hourly_wage_hint": (
        "California law (the Garment Worker Protection Act, SB 62): since January 1, 2022, garment "
        "workers must be paid by the hour, never by the piece. The minimum wage is set by the State "
        "and by cities such as Los Angeles."
    ),
    "app_garment_registration_label": "Garment registration number from the California Labor Commissioner",
    "app_garment_registration_hint": (
        "Needed if you do garment work: California law requires every garment manufacturer to register "
        "with the Labor Commissioner each year (Labor Code section 2675)."
    ),
    "app_wage_judgments_legend": "Does your business have any unpaid wage judgments or citations?",
    "app_wage_judgments_hint": (
        "Wages a court or the Labor Commissioner ordered your business to pay workers, not yet paid."
    ),
    "app_debarred_legend": (
        "Has Los Angeles County or another government barred your business from its contracts (debarred)?"
    ),
    "app_contact_name_label": "Name of the person the County should contact",
    "app_contact_email_label": "Their email address",
    "app_contact_phone_label": "Their phone number",
    "app_consent_legend": "Permission to contact you",
    "app_consent_text": (
        "I agree that Los Angeles County and its Department of Economic Opportunity may contact my "
        "business about this application and the pilot, and that my answers are true."
    ),
    "app_save": "Save and continue later",
    "app_submit": "Submit my application",
    "app_submit_hint": "Once submitted, you can't change your answers unless DEO staff ask you to.",
    # The result and status pages
    "app_status_title": "Your application",
    "app_submitted_heading": "Application submitted",
    "app_submitted_text": "Thank you. We received your application and emailed you a copy of this page.",
    "app_verdict_intro": "Our automatic screening of your answers says your business",
    "app_verdict_outro": "for the pilot.",
    "app_county_decides": (
        "This is a screening, not a decision. Los Angeles County decides who takes part in the pilot."
    ),
    "app_next_heading": "What happens next",
    "app_next_text": (
        "DEO staff will review your application and write to you by email. If they need more "
        "information, they will ask you, and you can change your answers with the same link."
    ),
    "app_checks_heading": "The screening in detail",
    "app_checks_note": "As County staff see it, with the rules it cites.",
    "app_status_submitted": "Your application is with DEO staff for review.",
    "app_status_qualified": (
        "Your business has qualified: it is on the County's list of qualified local manufacturers."
    ),
    "app_status_declined": "The County could not include your business in the pilot at this time.",
    "app_decline_reason": "The reason:",
    "app_bad_link_title": "This link does not work",
    "app_expired_title": "This link has expired",
    "app_expired_text": "You can still apply. Go to the application page: {apply}",
    "app_bad_link_text": (
        "The link may have been copied only in part. Open it again from your email, or ask for a new "
        "link on the application page: {apply}"
    ),
    "app_closed_title": "This application can't be changed now",
    "app_closed_text": "It has been submitted. Nothing was changed.",
    # Errors: one for each rule of subscribers.applications.check_answers
    "app_err_legal_name_missing": "Enter the legal name of the business",
    "app_err_legal_name_characters": "Enter the legal name on one line, without web addresses or < >",
    "app_err_legal_name_too_long": "The legal name must be 200 characters or fewer",
    "app_err_dba_characters": "Enter the business name on one line, without web addresses or < >",
    "app_err_dba_too_long": "The business name must be 200 characters or fewer",
    "app_err_principal_address_missing": "Enter the address of your main place of business",
    "app_err_principal_address_characters": "Enter the address without web addresses or special characters",
    "app_err_principal_address_too_long": "The address must be 300 characters or fewer",
    "app_err_principal_zip_missing": "Enter the ZIP code of your main place of business",
    "app_err_principal_zip_format": "Enter the ZIP code as 5 digits, like 90021",
    "app_err_production_sites_characters": "Enter the addresses without web addresses or special characters",
    "app_err_production_sites_too_long": "The addresses must be 2,000 characters or fewer",
    "app_err_production_zips_missing": "Enter the ZIP codes where you make your goods",
    "app_err_production_zips_format": (
        "Enter each ZIP code as 5 digits, separated by spaces, like 90021 90011"
    ),
    "app_err_production_zips_too_many": "Enter at most 20 ZIP codes",
    "app_err_years_in_county_missing": "Enter how many years your business has been in Los Angeles County",
    "app_err_years_in_county_format": "Enter the years as a number, like 3 or 2.5",
    "app_err_years_in_county_range": "The years must be between 0 and 150",
    "app_err_employees_missing": "Enter how many people work for your business",
    "app_err_employees_format": "Enter the number of workers as a whole number, like 12",
    "app_err_employees_range": "The number of workers must be 100,000 or fewer",
    "app_err_revenue_band_missing": "Select your average yearly gross receipts",
    "app_err_revenue_band_choice": "Select one of the listed amounts",
    "app_err_naics_format": "Enter a NAICS code of 2 to 6 digits, like 315250, or leave it blank",
    "app_err_cert_ca_sb_missing": "Select yes or no for the State small business certification",
    "app_err_cert_ca_sb_choice": "Select yes or no for the State small business certification",
    "app_err_cert_lsbe_missing": "Select yes or no for the County LSBE certification",
    "app_err_cert_lsbe_choice": "Select yes or no for the County LSBE certification",
    "app_err_cert_other_characters": "Enter the certifications without web addresses or special characters",
    "app_err_cert_other_too_long": "The certifications must be 300 characters or fewer",
    "app_err_products_missing": "Enter what you make",
    "app_err_products_characters": "Enter what you make without web addresses or special characters",
    "app_err_products_too_long": "What you make must be 2,000 characters or fewer",
    "app_err_category_missing": "Choose the kind of goods closest to what you make",
    "app_err_category_choice": "Choose a kind of goods from the list",
    "app_err_capacity_missing": "Enter how much you could supply",
    "app_err_capacity_characters": "Enter your capacity without web addresses or special characters",
    "app_err_capacity_too_long": "Your capacity must be 2,000 characters or fewer",
    "app_err_garment_work_missing": "Select yes or no for garment work",
    "app_err_garment_work_choice": "Select yes or no for garment work",
    "app_err_hourly_wage_missing": "Select yes or no for paying the minimum wage by the hour",
    "app_err_hourly_wage_choice": "Select yes or no for paying the minimum wage by the hour",
    "app_err_garment_registration_missing": (
        "Enter your garment registration number: you said your business does garment work"
    ),
    "app_err_garment_registration_format": "Enter the registration number as it is written, like GR-12345",
    "app_err_wage_judgments_missing": "Select yes or no for unpaid wage judgments",
    "app_err_wage_judgments_choice": "Select yes or no for unpaid wage judgments",
    "app_err_debarred_missing": "Select yes or no for debarment",
    "app_err_debarred_choice": "Select yes or no for debarment",
    "app_err_contact_name_missing": "Enter the name of the person the County should contact",
    "app_err_contact_name_characters": "Enter the name on one line, without web addresses or < >",
    "app_err_contact_name_too_long": "The name must be 200 characters or fewer",
    "app_err_contact_email_missing": "Enter the contact's email address",
    "app_err_contact_email_format": "Enter an email address in the correct format, like name@example.com",
    "app_err_contact_phone_format": "Enter a phone number with at least 7 digits, like 213 555 0101",
    "app_err_consent_missing": "Check the box to agree that the County may contact your business",
    "app_err_consent_choice": "Check the box to agree that the County may contact your business",
}

ES: dict[str, str] = {
    "app_title": "Solicite participar en el programa piloto Made in Los Angeles",
    "app_intro": (
        "El programa piloto ayuda a los fabricantes del Condado de Los Ángeles a vender a los "
        "departamentos del Condado. La solicitud toma unos 20 minutos. Puede guardarla y terminarla después."
    ),
    "app_need": "Tenga a la mano: la dirección y los códigos postales de su negocio, su número de "
    "trabajadores, su código NAICS si lo sabe y, si hace trabajo de confección, su número de registro.",
    "app_start_heading": "Empiece o continúe su solicitud",
    "app_start_hint": "Le enviaremos por correo un enlace personal a su solicitud. No necesita una cuenta.",
    "app_start_button": "Envíenme el enlace a mi solicitud",
    "app_language_legend": "¿En qué idioma quiere que le escribamos?",
    "app_sent_title": "Revise su correo",
    "app_sent_text": (
        "Si la dirección es correcta, un enlace a su solicitud va en camino a {email}. Ábralo para "
        "llenar su solicitud. El enlace sigue funcionando, así que puede volver a usarlo."
    ),
    "app_sent_none": "Un enlace a su solicitud va en camino. Ábralo para llenar su solicitud.",
    "app_sent_spam": (
        "¿No llegó nada en 10 minutos? Busque en su carpeta de correo no deseado o inténtelo de nuevo."
    ),
    "app_form_intro": (
        "Las preguntas marcadas (opcional) se pueden dejar en blanco. Todo lo demás se necesita para enviar."
    ),
    "app_saved": "Sus respuestas están guardadas. Le enviamos por correo el enlace para volver a ellas.",
    "app_saved_errors": "Sus respuestas están guardadas, pero algunas necesitan un cambio antes de enviar.",
    "app_request_heading": "El personal del DEO pidió más información",
    "app_section_business": "Su negocio",
    "app_section_products": "Lo que fabrica",
    "app_section_labor": "Normas laborales",
    "app_section_labor_hint": (
        "El programa piloto es para negocios que cumplen las leyes laborales de California. Conteste "
        "por su negocio y por los negocios con los que trabaja para fabricar sus productos."
    ),
    "app_section_contact": "Contacto",
    "app_legal_name_label": "Nombre legal del negocio",
    "app_dba_label": "Nombre comercial (DBA), si es distinto",
    "app_principal_address_label": "Dirección de su lugar principal de negocios",
    "app_principal_address_hint": "Calle y ciudad. Es donde se administra el negocio.",
    "app_principal_zip_label": "Código postal de su lugar principal de negocios",
    "app_zip_hint": "5 dígitos, como 90021",
    "app_production_sites_label": "Direcciones donde fabrica sus productos, si son distintas",
    "app_production_sites_hint": "Una dirección en cada línea.",
    "app_production_zips_label": "Códigos postales donde fabrica sus productos",
    "app_production_zips_hint": "5 dígitos cada uno, separados por espacios, como 90021 90011",
    "app_years_in_county_label": (
        "¿Cuántos años lleva su lugar principal de negocios en el Condado de Los Ángeles?"
    ),
    "app_years_hint": "Un número, como 3 o 2.5",
    "app_employees_label": "¿Cuántas personas trabajan para su negocio, incluidas las afiliadas?",
    "app_employees_hint": (
        "De tiempo completo y de medio tiempo, más los trabajadores de sus negocios afiliados (los que "
        "tienen participación en el suyo o en los que el suyo tiene participación). "
        "Un número entero, como 12."
    ),
    "app_revenue_band_legend": (
        "Ingresos brutos anuales promedio de los últimos 3 años, incluidos los afiliados"
    ),
    "app_revenue_under_1m": "Menos de $1 millón",
    "app_revenue_1m_5m": "De $1 millón a $5 millones",
    "app_revenue_5m_15m": "De $5 millones a $15 millones",
    "app_revenue_over_15m": "Más de $15 millones",
    "app_naics_label": "Código NAICS",
    "app_naics_hint": "De 2 a 6 dígitos, como 315250. Déjelo en blanco si no lo sabe.",
    "app_cert_ca_sb_legend": "¿Está su negocio certificado como pequeña empresa por el Estado de California?",
    "app_cert_lsbe_legend": (
        "¿Está su negocio certificado por el Condado de Los Ángeles como pequeña empresa local (LSBE)?"
    ),
    "app_cert_other_label": "Otras certificaciones de pequeña empresa y la agencia que dio cada una",
    "app_cert_other_hint": "Por ejemplo: Ciudad de Los Ángeles, Metro, SBA de EE. UU.",
    "app_products_label": "¿Qué fabrica?",
    "app_products_hint": (
        "En sus propias palabras, por ejemplo: uniformes de trabajo, tortillas, estantes de metal."
    ),
    "app_category_label": "¿Qué tipo de productos se parece más a lo que fabrica?",
    "app_category_choose": "Elija uno",
    "app_capacity_label": "¿Cuánto podría suministrar a un departamento del Condado?",
    "app_capacity_hint": "Por ejemplo: 2,000 camisas al mes, o 500 docenas de tortillas a la semana.",
    "app_garment_work_legend": (
        "¿Hace su negocio trabajo de confección: coser, cortar, teñir, dar acabado o etiquetar ropa?"
    ),
    "app_hourly_wage_legend": "¿Paga a cada trabajador al menos el salario mínimo, por hora?",
    "app_hourly_wage_hint": (
        "Ley de California (Ley de Protección de Trabajadores de la Confección, SB 62): desde el 1 de "
        "enero de 2022, a los trabajadores de la confección se les paga por hora, nunca por pieza. El "
        "salario mínimo lo fijan el Estado y ciudades como Los Ángeles."
    ),
    "app_garment_registration_label": (
        "Número de registro de confección del Comisionado Laboral de California"
    ),
    "app_garment_registration_hint": (
        "Se necesita si hace trabajo de confección: la ley de California exige que todo fabricante de "
        "ropa se registre cada año con el Comisionado Laboral (Código Laboral, sección 2675)."
    ),
    "app_wage_judgments_legend": "¿Tiene su negocio sentencias o citaciones de salarios sin pagar?",
    "app_wage_judgments_hint": (
        "Salarios que un tribunal o el Comisionado Laboral ordenó a su negocio pagar a trabajadores y que "
        "aún no ha pagado."
    ),
    "app_debarred_legend": (
        "¿El Condado de Los Ángeles u otro gobierno le prohibió a su negocio tener contratos "
        "(inhabilitación)?"
    ),
    "app_contact_name_label": "Nombre de la persona a quien el Condado debe contactar",
    "app_contact_email_label": "Su correo electrónico",
    "app_contact_phone_label": "Su número de teléfono",
    "app_consent_legend": "Permiso para contactarle",
    "app_consent_text": (
        "Acepto que el Condado de Los Ángeles y su Departamento de Oportunidades Económicas contacten a "
        "mi negocio sobre esta solicitud y el programa piloto, y que mis respuestas son verdaderas."
    ),
    "app_save": "Guardar y continuar después",
    "app_submit": "Enviar mi solicitud",
    "app_submit_hint": (
        "Después de enviarla, no podrá cambiar sus respuestas a menos que el personal del DEO se lo pida."
    ),
    "app_status_title": "Su solicitud",
    "app_submitted_heading": "Solicitud enviada",
    "app_submitted_text": (
        "Gracias. Recibimos su solicitud y le enviamos por correo una copia de esta página."
    ),
    "app_verdict_intro": "La revisión automática de sus respuestas dice que su negocio",
    "app_verdict_outro": "para el programa piloto.",
    "app_county_decides": (
        "Esto es una revisión preliminar, no una decisión. El Condado de Los Ángeles decide quién "
        "participa en el programa piloto."
    ),
    "app_next_heading": "Qué sigue",
    "app_next_text": (
        "El personal del DEO revisará su solicitud y le escribirá por correo. Si necesita más "
        "información, se la pedirá, y usted podrá cambiar sus respuestas con el mismo enlace."
    ),
    "app_checks_heading": "La revisión en detalle",
    "app_checks_note": "En inglés, como la ve el personal del Condado, con las reglas que cita.",
    "app_status_submitted": "Su solicitud está con el personal del DEO para su revisión.",
    "app_status_qualified": (
        "Su negocio fue calificado: está en la lista del Condado de fabricantes locales calificados."
    ),
    "app_status_declined": "El Condado no pudo incluir a su negocio en el programa piloto por ahora.",
    "app_decline_reason": "La razón:",
    "app_bad_link_title": "Este enlace no funciona",
    "app_expired_title": "Este enlace ha vencido",
    "app_expired_text": "Todavía puede presentar su solicitud. Vaya a la página de solicitud: {apply}",
    "app_bad_link_text": (
        "Es posible que el enlace se haya copiado solo en parte. Ábralo de nuevo desde su correo, o pida "
        "un enlace nuevo en la página de solicitud: {apply}"
    ),
    "app_closed_title": "Esta solicitud no se puede cambiar ahora",
    "app_closed_text": "Ya fue enviada. No se cambió nada.",
    "app_err_legal_name_missing": "Escriba el nombre legal del negocio",
    "app_err_legal_name_characters": "Escriba el nombre legal en una línea, sin direcciones web ni < >",
    "app_err_legal_name_too_long": "El nombre legal debe tener 200 caracteres o menos",
    "app_err_dba_characters": "Escriba el nombre comercial en una línea, sin direcciones web ni < >",
    "app_err_dba_too_long": "El nombre comercial debe tener 200 caracteres o menos",
    "app_err_principal_address_missing": "Escriba la dirección de su lugar principal de negocios",
    "app_err_principal_address_characters": (
        "Escriba la dirección sin direcciones web ni caracteres especiales"
    ),
    "app_err_principal_address_too_long": "La dirección debe tener 300 caracteres o menos",
    "app_err_principal_zip_missing": "Escriba el código postal de su lugar principal de negocios",
    "app_err_principal_zip_format": "Escriba el código postal con 5 dígitos, como 90021",
    "app_err_production_sites_characters": (
        "Escriba las direcciones sin direcciones web ni caracteres especiales"
    ),
    "app_err_production_sites_too_long": "Las direcciones deben tener 2,000 caracteres o menos",
    "app_err_production_zips_missing": "Escriba los códigos postales donde fabrica sus productos",
    "app_err_production_zips_format": (
        "Escriba cada código postal con 5 dígitos, separados por espacios, como 90021 90011"
    ),
    "app_err_production_zips_too_many": "Escriba como máximo 20 códigos postales",
    "app_err_years_in_county_missing": "Escriba cuántos años lleva su negocio en el Condado de Los Ángeles",
    "app_err_years_in_county_format": "Escriba los años como un número, como 3 o 2.5",
    "app_err_years_in_county_range": "Los años deben estar entre 0 y 150",
    "app_err_employees_missing": "Escriba cuántas personas trabajan para su negocio",
    "app_err_employees_format": "Escriba el número de trabajadores como un número entero, como 12",
    "app_err_employees_range": "El número de trabajadores debe ser 100,000 o menos",
    "app_err_revenue_band_missing": "Seleccione sus ingresos brutos anuales promedio",
    "app_err_revenue_band_choice": "Seleccione una de las cantidades de la lista",
    "app_err_naics_format": "Escriba un código NAICS de 2 a 6 dígitos, como 315250, o déjelo en blanco",
    "app_err_cert_ca_sb_missing": "Seleccione sí o no para la certificación estatal de pequeña empresa",
    "app_err_cert_ca_sb_choice": "Seleccione sí o no para la certificación estatal de pequeña empresa",
    "app_err_cert_lsbe_missing": "Seleccione sí o no para la certificación LSBE del Condado",
    "app_err_cert_lsbe_choice": "Seleccione sí o no para la certificación LSBE del Condado",
    "app_err_cert_other_characters": (
        "Escriba las certificaciones sin direcciones web ni caracteres especiales"
    ),
    "app_err_cert_other_too_long": "Las certificaciones deben tener 300 caracteres o menos",
    "app_err_products_missing": "Escriba lo que fabrica",
    "app_err_products_characters": "Escriba lo que fabrica sin direcciones web ni caracteres especiales",
    "app_err_products_too_long": "Lo que fabrica debe tener 2,000 caracteres o menos",
    "app_err_category_missing": "Elija el tipo de productos que más se parece a lo que fabrica",
    "app_err_category_choice": "Elija un tipo de productos de la lista",
    "app_err_capacity_missing": "Escriba cuánto podría suministrar",
    "app_err_capacity_characters": "Escriba su capacidad sin direcciones web ni caracteres especiales",
    "app_err_capacity_too_long": "Su capacidad debe tener 2,000 caracteres o menos",
    "app_err_garment_work_missing": "Seleccione sí o no para el trabajo de confección",
    "app_err_garment_work_choice": "Seleccione sí o no para el trabajo de confección",
    "app_err_hourly_wage_missing": "Seleccione sí o no para el pago del salario mínimo por hora",
    "app_err_hourly_wage_choice": "Seleccione sí o no para el pago del salario mínimo por hora",
    "app_err_garment_registration_missing": (
        "Escriba su número de registro de confección: dijo que su negocio hace trabajo de confección"
    ),
    "app_err_garment_registration_format": "Escriba el número de registro como aparece, por ejemplo GR-12345",
    "app_err_wage_judgments_missing": "Seleccione sí o no para las sentencias de salarios sin pagar",
    "app_err_wage_judgments_choice": "Seleccione sí o no para las sentencias de salarios sin pagar",
    "app_err_debarred_missing": "Seleccione sí o no para la inhabilitación",
    "app_err_debarred_choice": "Seleccione sí o no para la inhabilitación",
    "app_err_contact_name_missing": "Escriba el nombre de la persona a quien el Condado debe contactar",
    "app_err_contact_name_characters": "Escriba el nombre en una línea, sin direcciones web ni < >",
    "app_err_contact_name_too_long": "El nombre debe tener 200 caracteres o menos",
    "app_err_contact_email_missing": "Escriba el correo electrónico del contacto",
    "app_err_contact_email_format": (
        "Escriba un correo electrónico con el formato correcto, como nombre@ejemplo.com"
    ),
    "app_err_contact_phone_format": "Escriba un número de teléfono de al menos 7 dígitos, como 213 555 0101",
    "app_err_consent_missing": "Marque la casilla para aceptar que el Condado contacte a su negocio",
    "app_err_consent_choice": "Marque la casilla para aceptar que el Condado contacte a su negocio",
}
