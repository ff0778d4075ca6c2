package city.cityauth.app.ui

import androidx.annotation.StringRes
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.Button
import androidx.compose.material3.ButtonDefaults
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Surface
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.LaunchedEffect
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableLongStateOf
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.unit.dp
import androidx.compose.ui.window.Dialog
import androidx.compose.ui.window.DialogProperties
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import city.cityauth.app.R
import city.cityauth.app.Session
import city.cityauth.ffi.Challenge
import city.cityauth.ffi.ChallengeKind
import java.text.DateFormat
import java.util.Date
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch

/**
 * A sign-in or password-reset request: its context, the number shown in the browser when one
 * is asked, and approve / deny / report fraud. The core verified the server's signature.
 */
@Composable
fun ApprovalScreen(session: Session, challenge: Challenge) {
    val scope = rememberCoroutineScope()
    val enrollment by session.enrollment.collectAsStateWithLifecycle()
    var number by remember(challenge.id) { mutableStateOf("") }
    var working by remember(challenge.id) { mutableStateOf(false) }
    var now by remember { mutableLongStateOf(System.currentTimeMillis() / 1000) }
    LaunchedEffect(challenge.id) {
        while (true) {
            delay(1_000)
            now = System.currentTimeMillis() / 1000
        }
    }
    // Server time = this device's time + the offset the core learned at enrollment.
    val secondsLeft = (challenge.expiresAt.toLong() - (now + (enrollment?.clockOffset ?: 0))).coerceAtLeast(0)
    val digits = challenge.numberDigits.toInt()
    val numberComplete = digits == 0 || (number.length == digits && number.all(Char::isDigit))

    fun send(approve: Boolean, fraud: Boolean) {
        working = true
        scope.launch {
            session.answer(challenge, approve, fraud, if (approve && digits > 0) number else null)
            working = false
        }
    }

    Dialog(onDismissRequest = {}, properties = DialogProperties(dismissOnClickOutside = false, dismissOnBackPress = false)) {
        Surface(shape = MaterialTheme.shapes.large) {
            Column(Modifier.padding(24.dp), verticalArrangement = Arrangement.spacedBy(8.dp)) {
                Text(stringResource(R.string.approval_title), style = MaterialTheme.typography.headlineSmall)
                Detail(stringResource(R.string.approval_request), stringResource(kindText(challenge.kind)))
                Detail(stringResource(R.string.approval_application), challenge.application)
                Detail(stringResource(R.string.approval_account), challenge.account)
                Detail(stringResource(R.string.approval_from), challenge.clientIp)
                Detail(stringResource(R.string.approval_near), challenge.location)
                Detail(stringResource(R.string.approval_at), DateFormat.getTimeInstance(DateFormat.SHORT).format(Date(challenge.createdAt.toLong() * 1000)))
                Detail(stringResource(R.string.approval_expires_in), stringResource(R.string.approval_seconds, secondsLeft))
                if (digits > 0) {
                    OutlinedTextField(
                        value = number,
                        onValueChange = { typed -> number = typed.filter(Char::isDigit).take(digits) },
                        label = { Text(stringResource(R.string.approval_number_label, digits)) },
                        keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.NumberPassword),
                        modifier = Modifier.fillMaxWidth(),
                    )
                }
                Button(
                    enabled = !working && numberComplete && secondsLeft > 0,
                    onClick = { send(approve = true, fraud = false) },
                    modifier = Modifier.fillMaxWidth(),
                ) { Text(stringResource(R.string.approval_approve)) }
                OutlinedButton(
                    enabled = !working,
                    onClick = { send(approve = false, fraud = false) },
                    modifier = Modifier.fillMaxWidth(),
                ) { Text(stringResource(R.string.approval_deny)) }
                TextButton(
                    enabled = !working,
                    onClick = { send(approve = false, fraud = true) },
                    colors = ButtonDefaults.textButtonColors(contentColor = MaterialTheme.colorScheme.error),
                    modifier = Modifier.fillMaxWidth(),
                ) { Text(stringResource(R.string.approval_report_fraud)) }
            }
        }
    }
}

@Composable
private fun Detail(label: String, value: String) {
    Column {
        Text(label, style = MaterialTheme.typography.labelSmall)
        Text(value, style = MaterialTheme.typography.bodyLarge)
    }
}

@StringRes
private fun kindText(kind: ChallengeKind): Int = when (kind) {
    ChallengeKind.SIGN_IN -> R.string.kind_sign_in
    ChallengeKind.PASSWORD_RESET -> R.string.kind_password_reset
    ChallengeKind.PASSWORD_CHANGE -> R.string.kind_password_change
    ChallengeKind.ADD_DEVICE -> R.string.kind_add_device
    ChallengeKind.CALLER_VERIFICATION -> R.string.kind_caller_verification
}
