# Emails to the employee and to the security team (server/src/notify/). Plain text; never a
# secret, never a link that grants access: only the portal's home ({ $portal }).
mail-greeting = Hello { $username },
mail-footer =
    If you did not expect this, call the help desk. You can review your account on the portal:
    { $portal }

    This message was sent automatically; please do not reply.
mail-password-reset-subject = Your City password was reset
mail-password-reset-body = The password of your City account was reset.
mail-password-changed-subject = Your City password was changed
mail-password-changed-body = The password of your City account was changed.
mail-phone-added-subject = A phone was added to your City account
mail-phone-added-body = The phone "{ $phone }" was added to your City account. It can now approve sign-ins and password resets.
mail-phone-removed-subject = A phone was removed from your City account
mail-phone-removed-body = The phone "{ $phone }" was removed from your City account.
mail-phone-removed-helpdesk-body = The help desk removed the phone "{ $phone }" from your City account, as reported lost.
mail-fraud-reported-subject = You reported a sign-in request as fraud
mail-fraud-reported-body = A sign-in request to your City account was reported as fraud from your phone. The security team has been told, and new requests are paused for a while.
mail-push-flood-subject = Too many sign-in requests were sent to your phone
mail-push-flood-body = Your phone received more sign-in requests than allowed, so the next ones were stopped. Do not approve a request you did not start.
mail-access-code-subject = The help desk issued an access code for your City account
mail-access-code-body = On { $when } the help desk issued an access code for your City account, valid for { $minutes } minutes. With it, your account can be signed in to without your phone. If you did not call the help desk for it, call the help desk at once and ask for the security team: someone may be trying to sign in as you.
mail-access-code-override-body = On { $when } the help desk issued an access code for your City account, valid for { $minutes } minutes, without confirming the caller on your phone. With it, your account can be signed in to without your phone. If you did not call the help desk for it, call the help desk at once and ask for the security team: someone may be trying to sign in as you.
mail-security-fraud-subject = Fraud report: { $username }
mail-security-fraud-body = The employee { $username } reported a push request as fraud from their phone.
mail-security-flood-subject = Push flood stopped: { $username }
mail-security-flood-body = The push cap stopped a flood of prompts to the phones of the employee { $username }.
