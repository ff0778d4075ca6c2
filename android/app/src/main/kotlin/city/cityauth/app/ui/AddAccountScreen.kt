package city.cityauth.app.ui

import android.Manifest
import android.content.ClipboardManager
import android.content.Context
import android.content.pm.PackageManager
import androidx.activity.compose.BackHandler
import androidx.activity.compose.rememberLauncherForActivityResult
import androidx.activity.result.contract.ActivityResultContracts
import androidx.annotation.StringRes
import androidx.compose.foundation.layout.Arrangement
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.rememberScrollState
import androidx.compose.foundation.verticalScroll
import androidx.compose.material3.Button
import androidx.compose.material3.FilterChip
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.OutlinedTextField
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Modifier
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.unit.dp
import androidx.core.content.ContextCompat
import city.cityauth.app.R
import city.cityauth.app.Session
import city.cityauth.ffi.HashAlgorithm
import city.cityauth.ffi.NewAccount
import city.cityauth.ffi.OtpKind
import kotlinx.coroutines.launch

/**
 * Add an account by scanning its QR code (or the City portal's enrollment code), by pasting a
 * link, or by typing it in. The core checks every field; its error names the one at fault.
 */
@Composable
fun AddAccountScreen(session: Session, onDone: () -> Unit) {
    val context = LocalContext.current
    val scope = rememberCoroutineScope()
    var scanning by remember { mutableStateOf(false) }
    var issuer by remember { mutableStateOf("") }
    var name by remember { mutableStateOf("") }
    var secret by remember { mutableStateOf("") }
    var kind by remember { mutableStateOf(OtpKind.TOTP) }
    var algorithm by remember { mutableStateOf(HashAlgorithm.SHA1) }
    var digits by remember { mutableStateOf("6") }
    var period by remember { mutableStateOf("30") }
    val cameraPermission = rememberLauncherForActivityResult(ActivityResultContracts.RequestPermission()) { granted ->
        scanning = granted
    }
    val useLink: (String) -> Unit = { link -> scope.launch { if (session.handleLink(link)) onDone() } }

    BackHandler { if (scanning) scanning = false else onDone() }

    if (scanning) {
        QrScanner(Modifier.fillMaxSize()) { link ->
            scanning = false
            useLink(link)
        }
        return
    }

    Column(
        Modifier.fillMaxSize().verticalScroll(rememberScrollState()).padding(16.dp),
        verticalArrangement = Arrangement.spacedBy(12.dp),
    ) {
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            Button(onClick = {
                val granted = ContextCompat.checkSelfPermission(context, Manifest.permission.CAMERA) ==
                    PackageManager.PERMISSION_GRANTED
                if (granted) scanning = true else cameraPermission.launch(Manifest.permission.CAMERA)
            }) { Text(stringResource(R.string.add_scan)) }
            OutlinedButton(onClick = {
                val clipboard = context.getSystemService(Context.CLIPBOARD_SERVICE) as ClipboardManager
                val text = clipboard.primaryClip?.getItemAt(0)?.text?.toString()?.trim().orEmpty()
                if (text.isNotEmpty()) useLink(text)
            }) { Text(stringResource(R.string.add_paste)) }
        }
        Text(stringResource(R.string.add_by_hand))
        OutlinedTextField(issuer, { issuer = it }, label = { Text(stringResource(R.string.add_service)) }, modifier = Modifier.fillMaxWidth())
        OutlinedTextField(name, { name = it }, label = { Text(stringResource(R.string.add_account_name)) }, modifier = Modifier.fillMaxWidth())
        OutlinedTextField(secret, { secret = it }, label = { Text(stringResource(R.string.add_secret)) }, modifier = Modifier.fillMaxWidth())
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OtpKind.entries.forEach { option ->
                FilterChip(selected = kind == option, onClick = { kind = option }, label = { Text(stringResource(kindLabel(option))) })
            }
        }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            HashAlgorithm.entries.forEach { option ->
                FilterChip(selected = algorithm == option, onClick = { algorithm = option }, label = { Text(option.name) })
            }
        }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            OutlinedTextField(digits, { digits = it }, label = { Text(stringResource(R.string.add_digits)) }, modifier = Modifier.weight(1f))
            OutlinedTextField(period, { period = it }, label = { Text(stringResource(R.string.add_period)) }, modifier = Modifier.weight(1f))
        }
        Row(horizontalArrangement = Arrangement.spacedBy(8.dp)) {
            TextButton(onClick = onDone) { Text(stringResource(R.string.common_cancel)) }
            Button(
                enabled = name.isNotBlank() && secret.isNotBlank(),
                onClick = {
                    // Out-of-range numbers go to the core as 0, which names the field at fault.
                    val account = NewAccount(
                        issuer = issuer.trim(), name = name.trim(), secretBase32 = secret,
                        kind = kind, algorithm = algorithm,
                        digits = digits.toUByteOrNull() ?: 0u, period = period.toUIntOrNull() ?: 0u,
                        counter = 0u,
                    )
                    scope.launch { if (session.add(account)) onDone() }
                },
            ) { Text(stringResource(R.string.add_account)) }
        }
    }
}

/** The name shown for a code type (the core's enum names are not words). */
@StringRes
private fun kindLabel(kind: OtpKind): Int = when (kind) {
    OtpKind.TOTP -> R.string.add_kind_totp
    OtpKind.HOTP -> R.string.add_kind_hotp
    OtpKind.STEAM -> R.string.add_kind_steam
}
