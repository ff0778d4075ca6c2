package city.cityauth.app.ui

import android.Manifest
import android.content.pm.PackageManager
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Switch
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.unit.dp
import androidx.core.content.ContextCompat
import androidx.fragment.app.FragmentActivity
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import city.cityauth.app.Session
import city.cityauth.app.platform.confirmUser
import kotlinx.coroutines.launch

/** App lock, biometric unlock (the Keystore slot), backup, the passphrase, the City account. */
@Composable
fun SettingsScreen(session: Session, activity: FragmentActivity) {
    val scope = rememberCoroutineScope()
    val enrollment by session.enrollment.collectAsStateWithLifecycle()
    var appLock by remember { mutableStateOf(session.settings.appLock) }
    var deviceKey by remember { mutableStateOf(session.settings.deviceKeyUnlock) }
    var backup by remember { mutableStateOf(session.settings.includeInBackup) }
    var passphrase by remember { mutableStateOf("") }
    var enrolling by remember { mutableStateOf(false) }
    val cameraPermission = rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        enrolling = granted
    }

    if (enrolling) {
        QrScanner(Modifier.fillMaxSize()) { link ->
            enrolling = false
            scope.launch { session.enroll(link) }
        }
        return
    }

    Column(
        Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        Section("App lock")
        Toggle("Lock when leaving the app", appLock) {
            appLock = it
            session.settings.appLock = it
        }
        Toggle("Unlock with fingerprint or screen lock", deviceKey) { on ->
            scope.launch {
                // The Keystore key works only right after the user confirmed.
                if (activity.confirmUser(if (on) "Turn on biometric unlock" else "Turn off biometric unlock")) {
                    session.setDeviceKeyUnlock(on)
                }
                deviceKey = session.settings.deviceKeyUnlock
            }
        }
        HorizontalDivider()
        Section("Backup")
        Toggle("Include codes in Android backups", backup) { on ->
            scope.launch {
                session.setIncludeInBackup(on)
                backup = session.settings.includeInBackup
            }
        }
        Text(
            "Backups hold the encrypted vault: restoring it needs your passphrase. Changing this locks the vault.",
            style = MaterialTheme.typography.bodySmall,
        )
        HorizontalDivider()
        Section("Passphrase")
        OutlinedTextField(
            passphrase, { passphrase = it }, label = { Text("New passphrase") },
            visualTransformation = PasswordVisualTransformation(), modifier = Modifier.fillMaxWidth(),
        )
        Button(enabled = passphrase.isNotEmpty(), onClick = {
            val entered = passphrase
            passphrase = ""
            scope.launch { session.changePassphrase(entered) }
        }) { Text("Change passphrase") }
        HorizontalDivider()
        Section("City account")
        val current = enrollment
        if (current != null) {
            Text("${current.displayName} (${current.username})")
            OutlinedButton(onClick = { session.wake() }) { Text("Check for requests") }
            OutlinedButton(onClick = { scope.launch { session.unenroll() } }) { Text("Remove this phone") }
        } else {
            Button(onClick = {
                val granted = ContextCompat.checkSelfPermission(activity, Manifest.permission.CAMERA) ==
                    PackageManager.PERMISSION_GRANTED
                if (granted) enrolling = true else cameraPermission.launch(Manifest.permission.CAMERA)
            }) { Text("Register this phone (scan the portal's code)") }
        }
        HorizontalDivider()
        OutlinedButton(onClick = { session.lock() }) { Text("Lock now") }
        Text("Core ${session.version}", style = MaterialTheme.typography.bodySmall)
    }
}

@Composable
private fun Section(title: String) {
    Text(title, style = MaterialTheme.typography.titleMedium)
}

@Composable
private fun Toggle(label: String, checked: Boolean, onChange: (Boolean) -> Unit) {
    Row(Modifier.fillMaxWidth(), verticalAlignment = Alignment.CenterVertically) {
        Text(label, Modifier.weight(1f))
        Switch(checked = checked, onCheckedChange = onChange)
    }
}
