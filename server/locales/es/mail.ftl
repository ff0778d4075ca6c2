# Correos al empleado y al equipo de seguridad (server/src/notify/). Texto sin formato; nunca un
# secreto ni un enlace que dé acceso: solo la página de inicio del portal ({ $portal }).
mail-greeting = Estimado/a { $username }:
mail-footer =
    Si no esperaba este aviso, llame a la mesa de ayuda. Puede revisar su cuenta en el portal:
    { $portal }

    Este mensaje se envió de forma automática; le rogamos no responder.
mail-password-reset-subject = Se restableció su contraseña de la Ciudad
mail-password-reset-body = Se restableció la contraseña de su cuenta de la Ciudad.
mail-password-changed-subject = Se cambió su contraseña de la Ciudad
mail-password-changed-body = Se cambió la contraseña de su cuenta de la Ciudad.
mail-phone-added-subject = Se agregó un teléfono a su cuenta de la Ciudad
mail-phone-added-body = Se agregó el teléfono «{ $phone }» a su cuenta de la Ciudad. A partir de ahora puede aprobar inicios de sesión y restablecimientos de contraseña.
mail-phone-removed-subject = Se quitó un teléfono de su cuenta de la Ciudad
mail-phone-removed-body = Se quitó el teléfono «{ $phone }» de su cuenta de la Ciudad.
mail-phone-removed-helpdesk-body = La mesa de ayuda quitó el teléfono «{ $phone }» de su cuenta de la Ciudad, tras informarse su pérdida.
mail-fraud-reported-subject = Usted denunció una solicitud de inicio de sesión como fraude
mail-fraud-reported-body = Desde su teléfono se denunció como fraude una solicitud de inicio de sesión en su cuenta de la Ciudad. Se avisó al equipo de seguridad y las nuevas solicitudes quedan suspendidas por un tiempo.
mail-push-flood-subject = Su teléfono recibió demasiadas solicitudes de inicio de sesión
mail-push-flood-body = Su teléfono recibió más solicitudes de inicio de sesión de las permitidas, por lo que se detuvieron las siguientes. No apruebe ninguna solicitud que usted no haya iniciado.
mail-access-code-subject = La mesa de ayuda emitió un código de acceso para su cuenta de la Ciudad
mail-access-code-body = El { $when } la mesa de ayuda emitió un código de acceso para su cuenta de la Ciudad, válido por { $minutes } minutos. Con él se puede iniciar sesión en su cuenta sin su teléfono. Si usted no llamó a la mesa de ayuda para pedirlo, llame de inmediato a la mesa de ayuda y pida hablar con el equipo de seguridad: alguien podría estar intentando iniciar sesión en su nombre.
mail-access-code-override-body = El { $when } la mesa de ayuda emitió un código de acceso para su cuenta de la Ciudad, válido por { $minutes } minutos, sin confirmar a quien llamaba en su teléfono. Con él se puede iniciar sesión en su cuenta sin su teléfono. Si usted no llamó a la mesa de ayuda para pedirlo, llame de inmediato a la mesa de ayuda y pida hablar con el equipo de seguridad: alguien podría estar intentando iniciar sesión en su nombre.
mail-security-fraud-subject = Denuncia de fraude: { $username }
mail-security-fraud-body = El empleado { $username } denunció como fraude una solicitud push desde su teléfono.
mail-security-flood-subject = Avalancha de solicitudes detenida: { $username }
mail-security-flood-body = El límite de solicitudes push detuvo una avalancha de avisos a los teléfonos del empleado { $username }.
