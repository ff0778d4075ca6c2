# The employee portal's pages (server/templates/), their messages and errors.

## Titles
title-home = Welcome
title-sign-in = Sign in
title-access-code = Sign in with an access code
title-password = Change my password
title-forgot = Forgot my password
title-security = Security info
title-enroll = Register the authenticator app
title-new-password = Choose a new password
title-wait-sign-in = Approve the sign-in
title-wait-reset = Confirm it is you
title-wait-change = Approve the password change
title-wait-add-phone = Approve the new phone

## Fields and buttons
field-username = Username
field-password = Password
field-current-password = Current password
field-new-password = New password
field-access-code = Access code
field-app-code = Code from the app
button-sign-in = Sign in
button-next = Next
button-set-password = Set password
button-change-password = Change password
button-unlock = Unlock my account without changing the password
button-sign-out = Sign out
button-approved-continue = I approved on my phone – continue
button-verify-code = Verify code

## Links
link-sign-in = Sign in
link-forgot = Forgot my password
link-access-code = I have an access code from the help desk
link-back-security = Back to Security info
link-change-password = Change my password
link-sign-in-new-password = Sign in with the new password
link-portal-home = Go to the City account portal

## Pages
home-intro = Manage your City account.
forgot-intro = Enter your username. We will ask your phone to confirm it is you.
forgot-access-code-heading = No phone? Use an access code
forgot-access-code-intro = If you lost your phone, call the help desk: once they have verified you, they give you an access code to use here in place of the phone.
access-code-intro = The help desk gives you a one-time access code when you have no phone to approve with (for example, to register a new phone after losing the old one). It works once, for an hour.
enroll-scan = In the City authenticator app, choose “Add work account” and scan this code. It works once, for 10 minutes.
enroll-qr-alt = QR code of the enrollment link below
enroll-paste = Or paste this link into the app:
unlock-locked-heading = Your account is locked
unlock-locked-help = The City directory locked your account after too many wrong passwords. If you still know your password, unlock the account and keep it.
unlock-heading = Only locked out?
unlock-help = If you still know your password but the City directory locked your account after too many wrong tries, unlock it and keep the password.
waiting-prompt-sign-in = Open the City authenticator app on your phone and type this number to approve the sign-in:
waiting-prompt-reset = Open the City authenticator app on your phone and type this number to approve the password reset:
waiting-prompt-change = Open the City authenticator app on your phone and type this number to approve the password change:
waiting-prompt-add-phone = Open the City authenticator app on your phone and type this number to approve adding a phone:
waiting-no-notification = No notification?
waiting-code-instead = Enter the current code of your City account from the app instead.
security-signed-in-as = Signed in as { $name } ({ $username }).
security-devices = Your devices
security-no-device = No device is registered yet.
security-col-device = Device
security-col-platform = Platform
security-col-action = Action
security-remove = Remove { $name }
security-add-heading = Add a phone
security-add-button = Add a phone
security-add-note-grant = Your help-desk access code lets you add one phone.
security-add-note-approve = One of your phones will be asked to approve the new one.
security-add-note-first = You can register your first phone now.
security-first-phone-before = To register your first phone, ask the help desk for an access code and
security-first-phone-link = sign in with it
security-first-phone-after = , or ask your administrator for an enrollment link.
security-account = Account
notice-password-changed-title = Password changed
notice-password-changed-body = Your password was changed, and you were signed out everywhere.
notice-unlocked-title = Account unlocked
notice-unlocked-body = Your account is unlocked. Your password is unchanged.
notice-refused-title = Request refused
notice-refused-body = This request came from another site, so it was refused and nothing was changed.

## Messages
msg-not-approved = Not approved yet.
msg-sign-in-denied = The sign-in was denied.
msg-change-denied = The change was denied on the phone. Your password is unchanged.
msg-expired-restart = This request has expired. Please start again.
msg-denied = The request was denied on the phone.
msg-unknown-flow = This request has expired or was started elsewhere. Please start again.
msg-first-phone-needs-code = A first phone needs an access code from the help desk or an enrollment link from your administrator.

## The prompt to register a phone, and the phones' dates on Security info (issue 13)
title-register = Register a phone
register-intro = Your City account has no phone registered yet. With the City authenticator app on a phone, you approve your sign-ins, and you can reset your password yourself if you forget it.
register-now-button = Register a phone now
register-later-button = Remind me later ({ $left } left)
register-required = The City asks you to register a phone before you continue to Security info.
msg-no-reminder-left = You have no reminders left: register a phone to continue.
security-col-added = Added
security-col-last-used = Last used
security-col-confirmed = Last confirmed
security-never = Never
security-activity-note = A phone’s last use is its last approval, denial or accepted code. Confirm each phone you still have, and remove any you do not.
security-confirm = This is still my phone
security-confirm-label = This is still my phone: { $name }
date-time = { $day } { $month } { $year }, { $time } UTC
date-month-1 = January
date-month-2 = February
date-month-3 = March
date-month-4 = April
date-month-5 = May
date-month-6 = June
date-month-7 = July
date-month-8 = August
date-month-9 = September
date-month-10 = October
date-month-11 = November
date-month-12 = December

## Errors, by the API's error code (server/src/error.rs)
error-bad-request = The request is not valid
error-invalid-signature = The signature does not verify.
error-unknown-device = No such device.
error-stale-time = The request's time is more than 300 s from the server's.
error-replayed-nonce = The request was already used.
error-invalid-credentials = The username or password is wrong.
error-invalid-session = You are not signed in, or your session ended.
error-enrollment-code-invalid = The enrollment code is unknown, used or expired.
error-blocked = The account reported fraud; the help desk must clear it.
error-not-found = Not found.
error-already-answered = Already answered.
error-password-being-set = A new password is being set for this reset; try again in a minute.
error-not-verified = The reset is not verified.
error-expired = This request has expired.
error-wrong-number = The number does not match; the request is now failed.
error-wrong-code = The code is wrong.
error-password-policy = The password does not meet the requirements
error-locked = Too many failures; locked.
error-password-expired = Your password has expired: choose a new one with “Forgot my password”.
error-method-not-allowed = This page does not take that kind of request.
error-too-large = The request is too large.
error-rate-limited = Too many attempts; retry later
error-directory-refused = The City directory refused the password
error-directory-unavailable = The City directory cannot be reached; nothing was changed, try again shortly.
error-internal = Something went wrong on our side. Please try again.
