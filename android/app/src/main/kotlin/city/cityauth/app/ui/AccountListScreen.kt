package city.cityauth.app.ui

import android.content.ClipData
import android.content.ClipboardManager
import android.content.Context
import androidx.compose.foundation.clickable
import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.Column
import androidx.compose.foundation.layout.Row
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.fillMaxWidth
import androidx.compose.foundation.layout.padding
import androidx.compose.foundation.layout.size
import androidx.compose.foundation.lazy.LazyColumn
import androidx.compose.foundation.lazy.items
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Add
import androidx.compose.material.icons.filled.MoreVert
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.DropdownMenu
import androidx.compose.material3.DropdownMenuItem
import androidx.compose.material3.FloatingActionButton
import androidx.compose.material3.HorizontalDivider
import androidx.compose.material3.Icon
import androidx.compose.material3.IconButton
import androidx.compose.material3.MaterialTheme
import androidx.compose.material3.OutlinedButton
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.rememberCoroutineScope
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.graphics.Color
import androidx.compose.ui.platform.LocalContext
import androidx.compose.ui.res.stringResource
import androidx.compose.ui.text.font.FontFamily
import androidx.compose.ui.unit.dp
import androidx.compose.ui.unit.sp
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import city.cityauth.accountId
import city.cityauth.app.CodeRow
import city.cityauth.app.R
import city.cityauth.app.Session
import city.cityauth.ffi.OtpKind
import kotlinx.coroutines.launch

/**
 * The codes: collects the library's one-second Flow (one native call per second for the whole
 * list) only while this screen is visible.
 */
@Composable
fun AccountListScreen(session: Session, onAdd: () -> Unit) {
    val rowsFlow = remember(session) { session.codeRows() }
    val rows by rowsFlow.collectAsStateWithLifecycle(initialValue = emptyList())
    val hotp by session.hotpCodes.collectAsStateWithLifecycle()
    val scope = rememberCoroutineScope()

    Scaffold(
        floatingActionButton = {
            FloatingActionButton(onClick = onAdd) { Icon(Icons.Filled.Add, contentDescription = stringResource(R.string.add_account)) }
        },
    ) { padding ->
        if (rows.isEmpty()) {
            Box(Modifier.fillMaxSize().padding(padding), contentAlignment = Alignment.Center) {
                Text(stringResource(R.string.codes_empty))
            }
        }
        LazyColumn(Modifier.fillMaxSize().padding(padding)) {
            items(rows, key = { it.account.id }) { row ->
                CodeRowItem(
                    row = row,
                    hotpCode = hotp[row.account.accountId],
                    onNextHotp = { scope.launch { session.nextHotp(row.account.accountId) } },
                    onMoveToTop = { scope.launch { session.move(row.account.accountId, 0) } },
                    onDelete = { scope.launch { session.remove(row.account.accountId) } },
                )
                HorizontalDivider()
            }
        }
    }
}

@Composable
private fun CodeRowItem(
    row: CodeRow,
    hotpCode: String?,
    onNextHotp: () -> Unit,
    onMoveToTop: () -> Unit,
    onDelete: () -> Unit,
) {
    val context = LocalContext.current
    var menu by remember { mutableStateOf(false) }
    val isHotp = row.account.kind == OtpKind.HOTP
    val raw = if (isHotp) hotpCode.orEmpty() else row.code?.code.orEmpty()
    val shown = if (isHotp) hotpCode ?: "••• •••" else row.displayedCode

    Row(
        Modifier.fillMaxWidth().clickable { copy(context, raw) }.padding(16.dp),
        verticalAlignment = Alignment.CenterVertically,
    ) {
        Column(Modifier.weight(1f)) {
            Text(row.title, style = MaterialTheme.typography.bodyMedium)
            Text(shown, fontFamily = FontFamily.Monospace, fontSize = 30.sp)
        }
        val code = row.code
        if (isHotp) {
            OutlinedButton(onClick = onNextHotp) { Text(stringResource(R.string.codes_next)) }
        } else if (code != null) {
            Box(contentAlignment = Alignment.Center) {
                CircularProgressIndicator(
                    progress = { row.progress },
                    modifier = Modifier.size(36.dp),
                    color = if (code.remaining <= 5u) Color.Red else MaterialTheme.colorScheme.primary,
                )
                Text(code.remaining.toString(), style = MaterialTheme.typography.labelSmall)
            }
        }
        Box {
            IconButton(onClick = { menu = true }) { Icon(Icons.Filled.MoreVert, contentDescription = stringResource(R.string.codes_more)) }
            DropdownMenu(expanded = menu, onDismissRequest = { menu = false }) {
                DropdownMenuItem(text = { Text(stringResource(R.string.codes_move_to_top)) }, onClick = { menu = false; onMoveToTop() })
                DropdownMenuItem(text = { Text(stringResource(R.string.codes_delete)) }, onClick = { menu = false; onDelete() })
            }
        }
    }
}

private fun copy(context: Context, code: String) {
    if (code.isEmpty()) return
    val clipboard = context.getSystemService(Context.CLIPBOARD_SERVICE) as ClipboardManager
    clipboard.setPrimaryClip(ClipData.newPlainText(context.getString(R.string.codes_clip_label), code))
}
