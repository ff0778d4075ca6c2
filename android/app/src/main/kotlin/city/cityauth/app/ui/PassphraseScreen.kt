package city.cityauth.app.ui

import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.text.KeyboardOptions
import androidx.compose.material3.Button
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.input.KeyboardType
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.unit.dp
import androidx.fragment.app.FragmentActivity
import city.cityauth.app.R
import city.cityauth.app.Session
import city.cityauth.app.platform.confirmUser
import kotlinx.coroutines.launch

/** First start (choose a passphrase) or a locked vault (passphrase, or biometrics). */
@Composable
fun PassphraseScreen(session: Session, activity: FragmentActivity, creating: Boolean) {
    var passphrase by remember { mutableStateOf("") }
    var again by remember { mutableStateOf("") }
    var working by remember { mutableStateOf(false) }
    val scope = rememberCoroutineScope()

    Column(
        Modifier.fillMaxSize().padding(24.dp),
        verticalArrangement = Arrangement.spacedBy(16.dp),
    ) {
        Text(stringResource(if (creating) R.string.passphrase_create_title else R.string.passphrase_unlock_title))
        OutlinedTextField(
            value = passphrase, onValueChange = { passphrase = it }, label = { Text(stringResource(R.string.passphrase_label)) },
            visualTransformation = PasswordVisualTransformation(),
            keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Password),
            modifier = Modifier.fillMaxWidth(),
        )
        if (creating) {
            OutlinedTextField(
                value = again, onValueChange = { again = it }, label = { Text(stringResource(R.string.passphrase_again_label)) },
                visualTransformation = PasswordVisualTransformation(),
                keyboardOptions = KeyboardOptions(keyboardType = KeyboardType.Password),
                modifier = Modifier.fillMaxWidth(),
            )
            Text(stringResource(R.string.passphrase_create_note))
        }
        Button(
            enabled = !working && passphrase.isNotEmpty() && (!creating || passphrase == again),
            onClick = {
                // Compose holds text as Strings; the array handed on is wiped by the library.
                val entered = passphrase.toCharArray()
                passphrase = ""
                again = ""
                working = true
                scope.launch {
                    if (creating) session.create(entered) else session.unlock(entered)
                    working = false
                }
            },
        ) { Text(stringResource(if (creating) R.string.passphrase_create_button else R.string.passphrase_unlock_button)) }
        if (!creating && session.settings.deviceKeyUnlock) {
            OutlinedButton(
                enabled = !working,
                onClick = {
                    scope.launch {
                        if (activity.confirmUser(activity.getString(R.string.unlock_prompt_title))) session.unlockWithDeviceKey()
                    }
                },
            ) { Text(stringResource(R.string.unlock_with_device)) }
        }
    }
}
