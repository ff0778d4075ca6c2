# Las páginas del portal del empleado (server/templates/), sus mensajes y errores.

## Títulos
title-home = Bienvenido
title-sign-in = Iniciar sesión
title-access-code = Iniciar sesión con un código de acceso
title-password = Cambiar mi contraseña
title-forgot = Olvidé mi contraseña
title-security = Información de seguridad
title-enroll = Registrar la aplicación de autenticación
title-new-password = Elija una contraseña nueva
title-wait-sign-in = Apruebe el inicio de sesión
title-wait-reset = Confirme que es usted
title-wait-change = Apruebe el cambio de contraseña
title-wait-add-phone = Apruebe el teléfono nuevo

## Campos y botones
field-username = Nombre de usuario
field-password = Contraseña
field-current-password = Contraseña actual
field-new-password = Contraseña nueva
field-access-code = Código de acceso
field-app-code = Código de la aplicación
button-sign-in = Iniciar sesión
button-next = Siguiente
button-set-password = Establecer la contraseña
button-change-password = Cambiar la contraseña
button-unlock = Desbloquear mi cuenta sin cambiar la contraseña
button-sign-out = Cerrar sesión
button-approved-continue = Ya lo aprobé en mi teléfono – continuar
button-verify-code = Verificar el código

## Enlaces
link-sign-in = Iniciar sesión
link-forgot = Olvidé mi contraseña
link-access-code = Tengo un código de acceso de la mesa de ayuda
link-back-security = Volver a Información de seguridad
link-change-password = Cambiar mi contraseña
link-sign-in-new-password = Iniciar sesión con la contraseña nueva
link-portal-home = Ir al portal de la cuenta de la Ciudad

## Páginas
home-intro = Administre su cuenta de la Ciudad.
forgot-intro = Escriba su nombre de usuario. Le pediremos a su teléfono que confirme que es usted.
forgot-access-code-heading = ¿No tiene su teléfono? Use un código de acceso
forgot-access-code-intro = Si perdió su teléfono, llame a la mesa de ayuda: después de verificar su identidad, le darán un código de acceso para usar aquí en lugar del teléfono.
access-code-intro = La mesa de ayuda le da un código de acceso de un solo uso cuando no tiene un teléfono con el que aprobar (por ejemplo, para registrar un teléfono nuevo después de perder el anterior). Funciona una vez, durante una hora.
enroll-scan = En la aplicación de autenticación de la Ciudad, elija “Agregar cuenta de trabajo” y escanee este código. Funciona una vez, durante 10 minutos.
enroll-qr-alt = Código QR del enlace de registro que aparece abajo
enroll-paste = O pegue este enlace en la aplicación:
unlock-locked-heading = Su cuenta está bloqueada
unlock-locked-help = El directorio de la Ciudad bloqueó su cuenta después de demasiadas contraseñas incorrectas. Si todavía recuerda su contraseña, desbloquee la cuenta y consérvela.
unlock-heading = ¿Solo está bloqueado?
unlock-help = Si todavía recuerda su contraseña pero el directorio de la Ciudad bloqueó su cuenta después de demasiados intentos fallidos, desbloquéela y conserve la contraseña.
waiting-prompt-sign-in = Abra la aplicación de autenticación de la Ciudad en su teléfono y escriba este número para aprobar el inicio de sesión:
waiting-prompt-reset = Abra la aplicación de autenticación de la Ciudad en su teléfono y escriba este número para aprobar el restablecimiento de la contraseña:
waiting-prompt-change = Abra la aplicación de autenticación de la Ciudad en su teléfono y escriba este número para aprobar el cambio de contraseña:
waiting-prompt-add-phone = Abra la aplicación de autenticación de la Ciudad en su teléfono y escriba este número para aprobar que se agregue un teléfono:
waiting-no-notification = ¿No recibió la notificación?
waiting-code-instead = Escriba en su lugar el código actual de su cuenta de la Ciudad que muestra la aplicación.
security-signed-in-as = Sesión iniciada como { $name } ({ $username }).
security-devices = Sus dispositivos
security-no-device = Todavía no hay ningún dispositivo registrado.
security-col-device = Dispositivo
security-col-platform = Plataforma
security-col-action = Acción
security-remove = Quitar { $name }
security-add-heading = Agregar un teléfono
security-add-button = Agregar un teléfono
security-add-note-grant = Su código de acceso de la mesa de ayuda le permite agregar un teléfono.
security-add-note-approve = Se le pedirá a uno de sus teléfonos que apruebe el nuevo.
security-add-note-first = Ya puede registrar su primer teléfono.
security-first-phone-before = Para registrar su primer teléfono, pida un código de acceso a la mesa de ayuda e
security-first-phone-link = inicie sesión con él
security-first-phone-after = , o pida un enlace de registro a su administrador.
security-account = Cuenta
notice-password-changed-title = Contraseña cambiada
notice-password-changed-body = Su contraseña se cambió y se cerró su sesión en todos los dispositivos.
notice-unlocked-title = Cuenta desbloqueada
notice-unlocked-body = Su cuenta está desbloqueada. Su contraseña no cambió.
notice-refused-title = Solicitud rechazada
notice-refused-body = Esta solicitud vino de otro sitio, así que se rechazó y no se cambió nada.

## Mensajes
msg-not-approved = Todavía no se ha aprobado.
msg-sign-in-denied = Se rechazó el inicio de sesión.
msg-change-denied = El cambio se rechazó en el teléfono. Su contraseña no cambió.
msg-expired-restart = Esta solicitud venció. Vuelva a empezar.
msg-denied = La solicitud se rechazó en el teléfono.
msg-unknown-flow = Esta solicitud venció o se inició en otro lugar. Vuelva a empezar.
msg-first-phone-needs-code = Para un primer teléfono necesita un código de acceso de la mesa de ayuda o un enlace de registro de su administrador.

## El aviso para registrar un teléfono, y las fechas de los teléfonos en Información de seguridad (issue 13)
title-register = Registre un teléfono
register-intro = Su cuenta de la Ciudad todavía no tiene ningún teléfono registrado. Con la aplicación de autenticación de la Ciudad en un teléfono, usted aprueba sus inicios de sesión y puede restablecer su contraseña por su cuenta si la olvida.
register-now-button = Registrar un teléfono ahora
register-later-button = Recordármelo más tarde (le quedan { $left })
register-required = La Ciudad le pide que registre un teléfono antes de continuar a Información de seguridad.
msg-no-reminder-left = No le quedan recordatorios: registre un teléfono para continuar.
security-col-added = Agregado
security-col-last-used = Último uso
security-col-confirmed = Última confirmación
security-never = Nunca
security-activity-note = El último uso de un teléfono es su última aprobación, su último rechazo o su último código aceptado. Confirme cada teléfono que todavía tenga y quite los que ya no tenga.
security-confirm = Este sigue siendo mi teléfono
security-confirm-label = Este sigue siendo mi teléfono: { $name }
date-time = { $day } de { $month } de { $year }, { $time } UTC
date-month-1 = enero
date-month-2 = febrero
date-month-3 = marzo
date-month-4 = abril
date-month-5 = mayo
date-month-6 = junio
date-month-7 = julio
date-month-8 = agosto
date-month-9 = septiembre
date-month-10 = octubre
date-month-11 = noviembre
date-month-12 = diciembre

## Errores, por el código de error de la API (server/src/error.rs)
error-bad-request = La solicitud no es válida
error-invalid-signature = La firma no es válida.
error-unknown-device = El dispositivo no existe.
error-stale-time = La hora de la solicitud difiere en más de 300 s de la del servidor.
error-replayed-nonce = La solicitud ya se usó.
error-invalid-credentials = El nombre de usuario o la contraseña no son correctos.
error-invalid-session = No ha iniciado sesión, o su sesión terminó.
error-enrollment-code-invalid = El código de registro no existe, ya se usó o venció.
error-blocked = Se denunció un fraude en la cuenta; la mesa de ayuda debe desbloquearla.
error-not-found = No se encontró.
error-already-answered = Ya se respondió.
error-password-being-set = Se está estableciendo una nueva contraseña para este restablecimiento; inténtelo de nuevo en un minuto.
error-not-verified = El restablecimiento no está verificado.
error-expired = Esta solicitud venció.
error-wrong-number = El número no coincide; la solicitud quedó anulada.
error-wrong-code = El código no es correcto.
error-password-policy = La contraseña no cumple los requisitos
error-locked = Demasiados intentos fallidos; bloqueado.
error-password-expired = Su contraseña venció: elija una nueva con “Olvidé mi contraseña”.
error-method-not-allowed = Esta página no admite ese tipo de solicitud.
error-too-large = La solicitud es demasiado grande.
error-rate-limited = Demasiados intentos; vuelva a intentarlo más tarde
error-directory-refused = El directorio de la Ciudad rechazó la contraseña
error-directory-unavailable = No se puede conectar con el directorio de la Ciudad; no se cambió nada. Vuelva a intentarlo en unos momentos.
error-internal = Algo salió mal de nuestro lado. Vuelva a intentarlo.
