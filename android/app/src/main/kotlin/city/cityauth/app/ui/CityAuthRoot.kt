package city.cityauth.app.ui

import androidx.compose.foundation.layout.Box
import androidx.compose.foundation.layout.fillMaxSize
import androidx.compose.foundation.layout.padding
import androidx.compose.material.icons.Icons
import androidx.compose.material.icons.filled.Home
import androidx.compose.material.icons.filled.Settings
import androidx.compose.material3.AlertDialog
import androidx.compose.material3.CircularProgressIndicator
import androidx.compose.material3.Icon
import androidx.compose.material3.NavigationBar
import androidx.compose.material3.NavigationBarItem
import androidx.compose.material3.Scaffold
import androidx.compose.material3.Text
import androidx.compose.material3.TextButton
import androidx.compose.runtime.Composable
import androidx.compose.runtime.getValue
import androidx.compose.runtime.mutableStateOf
import androidx.compose.runtime.remember
import androidx.compose.runtime.setValue
import androidx.compose.ui.Alignment
import androidx.compose.ui.Modifier
import androidx.compose.ui.res.stringResource
import androidx.fragment.app.FragmentActivity
import androidx.lifecycle.compose.collectAsStateWithLifecycle
import city.cityauth.app.R
import city.cityauth.app.Session

/** Picks the screen from the session's phase; a pending request shows over everything. */
@Composable
fun CityAuthRoot(session: Session, activity: FragmentActivity) {
    val phase by session.phase.collectAsStateWithLifecycle()
    val pending by session.pending.collectAsStateWithLifecycle()
    val message by session.message.collectAsStateWithLifecycle()
    var tab by remember { mutableStateOf(Tab.CODES) }
    var adding by remember { mutableStateOf(false) }

    when (phase) {
        Session.Phase.STARTING -> Box(Modifier.fillMaxSize(), contentAlignment = Alignment.Center) {
            CircularProgressIndicator()
        }
        Session.Phase.NO_VAULT -> PassphraseScreen(session, activity, creating = true)
        Session.Phase.LOCKED -> PassphraseScreen(session, activity, creating = false)
        Session.Phase.UNLOCKED -> if (adding) {
            AddAccountScreen(session, onDone = { adding = false })
        } else {
            Scaffold(
                bottomBar = {
                    NavigationBar {
                        NavigationBarItem(
                            selected = tab == Tab.CODES, onClick = { tab = Tab.CODES },
                            icon = { Icon(Icons.Filled.Home, contentDescription = null) }, label = { Text(stringResource(R.string.tab_codes)) },
                        )
                        NavigationBarItem(
                            selected = tab == Tab.SETTINGS, onClick = { tab = Tab.SETTINGS },
                            icon = { Icon(Icons.Filled.Settings, contentDescription = null) }, label = { Text(stringResource(R.string.tab_settings)) },
                        )
                    }
                },
            ) { padding ->
                Box(Modifier.padding(padding)) {
                    when (tab) {
                        Tab.CODES -> AccountListScreen(session, onAdd = { adding = true })
                        Tab.SETTINGS -> SettingsScreen(session, activity)
                    }
                }
            }
        }
    }

    pending.firstOrNull()?.let { challenge ->
        if (phase == Session.Phase.UNLOCKED) ApprovalScreen(session, challenge)
    }
    message?.let { text ->
        AlertDialog(
            onDismissRequest = session::dismissMessage,
            confirmButton = { TextButton(onClick = session::dismissMessage) { Text(stringResource(R.string.common_ok)) } },
            text = { Text(text) },
        )
    }
}

private enum class Tab { CODES, SETTINGS }
