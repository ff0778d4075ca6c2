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
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.input.PasswordVisualTransformation
import androidx.compose.ui.unit.dp
import androidx.core.content.ContextCompat
import androidx.fragment.app.FragmentActivity
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import city.cityauth.app.R
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
        Section(stringResource(R.string.settings_app_lock))
        Toggle(stringResource(R.string.settings_lock_on_leave), appLock) {
            appLock = it
            session.settings.appLock = it
        }
        Toggle(stringResource(R.string.unlock_with_device), deviceKey) { on ->
            scope.launch {
                // The Keystore key works only right after the user confirmed.
                val title = activity.getString(if (on) R.string.settings_biometric_on else R.string.settings_biometric_off)
                if (activity.confirmUser(title)) {
                    session.setDeviceKeyUnlock(on)
                }
                deviceKey = session.settings.deviceKeyUnlock
            }
        }
        HorizontalDivider()
        Section(stringResource(R.string.settings_backup))
        Toggle(stringResource(R.string.settings_backup_include), backup) { on ->
            scope.launch {
                session.setIncludeInBackup(on)
                backup = session.settings.includeInBackup
            }
        }
        Text(
            stringResource(R.string.settings_backup_note),
            style = MaterialTheme.typography.bodySmall,
        )
        HorizontalDivider()
        Section(stringResource(R.string.settings_passphrase))
        OutlinedTextField(
            passphrase, { passphrase = it }, label = { Text(stringResource(R.string.settings_new_passphrase)) },
            visualTransformation = PasswordVisualTransformation(), modifier = Modifier.fillMaxWidth(),
        )
        Button(enabled = passphrase.isNotEmpty(), onClick = {
            val entered = passphrase.toCharArray()  // wiped by the library after the call
            passphrase = ""
            scope.launch { session.changePassphrase(entered) }
        }) { Text(stringResource(R.string.settings_change_passphrase)) }
        HorizontalDivider()
        Section(stringResource(R.string.settings_city_account))
        val current = enrollment
        if (current != null) {
            Text(stringResource(R.string.settings_enrolled_as, current.displayName, current.username))
            OutlinedButton(onClick = { session.wake() }) { Text(stringResource(R.string.settings_check_requests)) }
            OutlinedButton(onClick = { scope.launch { session.unenroll() } }) { Text(stringResource(R.string.settings_remove_phone)) }
        } else {
            Button(onClick = {
                val granted = ContextCompat.checkSelfPermission(activity, Manifest.permission.CAMERA) ==
                    PackageManager.PERMISSION_GRANTED
                if (granted) enrolling = true else cameraPermission.launch(Manifest.permission.CAMERA)
            }) { Text(stringResource(R.string.settings_register)) }
        }
        HorizontalDivider()
        OutlinedButton(onClick = { session.lock() }) { Text(stringResource(R.string.settings_lock_now)) }
        Text(stringResource(R.string.settings_core_version, session.version), style = MaterialTheme.typography.bodySmall)
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
