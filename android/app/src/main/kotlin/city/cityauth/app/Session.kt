package city.cityauth.app

import android.app.Application
import android.os.Build
import android.util.Log
import androidx.annotation.StringRes
import city.cityauth.AccountId
import city.cityauth.CityAuthApprovals
import city.cityauth.CityAuthVault
import city.cityauth.UrlConnectionTransport
import city.cityauth.app.platform.KeystoreDeviceSigner
import city.cityauth.app.platform.KeystoreKeyWrapper
import city.cityauth.app.platform.currentPushToken
import city.cityauth.ffi.AccountInfo
import city.cityauth.ffi.Challenge
import city.cityauth.ffi.CityAuthException
import city.cityauth.ffi.EnrollmentInfo
import city.cityauth.ffi.InternalException
import city.cityauth.ffi.KeyWrapException
import city.cityauth.ffi.NewAccount
import city.cityauth.ffi.coreVersion
import java.io.File
import kotlin.coroutines.cancellation.CancellationException
import kotlinx.coroutines.CoroutineScope
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.StateFlow
import kotlinx.coroutines.flow.asStateFlow
import kotlinx.coroutines.flow.combine
import kotlinx.coroutines.flow.flowOf
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

/**
 * The app's state over one [CityAuthVault]. Behaviour lives in the core; this only sequences
 * calls, keeps what the screens show, and turns errors into messages (in the user's language,
 * from the string resources: [errorMessage]).
 */
class Session(private val app: Application, private val scope: CoroutineScope) {
    /** Where the app is. */
    enum class Phase { STARTING, NO_VAULT, LOCKED, UNLOCKED }

    val settings = Settings(app)
    val keyWrapper = KeystoreKeyWrapper()
    /** The device key for City approvals, in the Keystore (StrongBox where there is one). */
    private val deviceSigner = KeystoreDeviceSigner()

    private val _phase = MutableStateFlow(Phase.STARTING)
    val phase: StateFlow<Phase> = _phase.asStateFlow()
    private val _accounts = MutableStateFlow<List<AccountInfo>>(emptyList())
    private val _pending = MutableStateFlow<List<Challenge>>(emptyList())
    val pending: StateFlow<List<Challenge>> = _pending.asStateFlow()
    private val _enrollment = MutableStateFlow<EnrollmentInfo?>(null)
    val enrollment: StateFlow<EnrollmentInfo?> = _enrollment.asStateFlow()
    private val _hotpCodes = MutableStateFlow<Map<AccountId, String>>(emptyMap())
    val hotpCodes: StateFlow<Map<AccountId, String>> = _hotpCodes.asStateFlow()
    private val _message = MutableStateFlow<String?>(null)
    val message: StateFlow<String?> = _message.asStateFlow()

    private var vault: CityAuthVault? = null

    /** A push came while locked: fetch once unlocked. */
    @Volatile
    private var wakePending = false

    val version: String by lazy { coreVersion() }

    /** The vault file, in the backed-up folder or the never-backed-up one (the setting). */
    private fun vaultFile(inBackup: Boolean = settings.includeInBackup): File {
        val base = if (inBackup) app.filesDir else app.noBackupFilesDir
        return File(File(base, "vault").apply { mkdirs() }, "vault.sqlite")
    }

    fun start() = scope.launch {
        val file = vaultFile()
        if (!file.exists()) {
            _phase.value = Phase.NO_VAULT
            return@launch
        }
        attempt {
            vault = CityAuthVault.open(file.path)
            _phase.value = Phase.LOCKED
        }
    }

    fun dismissMessage() {
        _message.value = null
    }

    /** [passphrase] is wiped by the library when the call ends. */
    suspend fun create(passphrase: CharArray) = attempt {
        vault = CityAuthVault.create(vaultFile().path, passphrase)
        didUnlock()
    }

    /** [passphrase] is wiped by the library when the call ends. */
    suspend fun unlock(passphrase: CharArray) = attempt {
        requireVault().unlock(passphrase)
        didUnlock()
    }

    /** Unlock through the Keystore key; call right after the user confirmed (BiometricPrompt). */
    suspend fun unlockWithDeviceKey() = attempt {
        requireVault().unlock(keyWrapper)
        didUnlock()
    }

    fun lock() {
        vault?.lock()
        _accounts.value = emptyList()
        _hotpCodes.value = emptyMap()
        _pending.value = emptyList()
        if (vault != null) _phase.value = Phase.LOCKED
    }

    /** The list screen's rows: the library's one-second Flow of codes joined with the accounts. */
    fun codeRows(): Flow<List<CodeRow>> {
        val current = vault ?: return flowOf(emptyList())
        return combine(_accounts, current.codeUpdates()) { accounts, codes -> codeRows(accounts, codes) }
    }

    /** A scanned or pasted link: an enrollment link enrolls, any other adds an account. */
    suspend fun handleLink(link: String): Boolean =
        if (link.trim().lowercase().startsWith("cityauth://enroll")) {
            enroll(link.trim())
        } else {
            attempt {
                requireVault().addFromLink(link.trim())
                reloadAccounts()
            }
        }

    suspend fun add(account: NewAccount) = attempt {
        requireVault().addAccount(account)
        reloadAccounts()
    }

    suspend fun remove(id: AccountId) = attempt {
        requireVault().remove(id)
        reloadAccounts()
    }

    suspend fun move(id: AccountId, position: Int) = attempt {
        requireVault().move(id, position)
        reloadAccounts()
    }

    suspend fun nextHotp(id: AccountId) = attempt {
        val code = requireVault().nextHotp(id)
        _hotpCodes.value = _hotpCodes.value + (id to code)
    }

    /**
     * Called by the push service and on pull-to-refresh: the push says only "look"; the core
     * fetches the pending requests over the signed channel and verifies each.
     */
    fun wake() = scope.launch {
        if (_phase.value != Phase.UNLOCKED) {
            wakePending = true
            return@launch
        }
        attempt {
            val current = requireVault()
            if (withContext(Dispatchers.IO) { current.vault.enrollment() } == null) return@attempt
            _pending.value = approvals { it.pending() }
        }
    }

    /** Approve (with the typed number), deny, or report fraud. Returns the server's outcome. */
    suspend fun answer(challenge: Challenge, approve: Boolean, fraud: Boolean, number: String?): String? {
        var outcome: String? = null
        attempt {
            outcome = approvals {
                if (approve) it.approve(challenge.id, number) else it.deny(challenge.id, fraud)
            }
            _pending.value = _pending.value.filterNot { c -> c.id == challenge.id }
            _message.value = app.getString(outcomeMessage(outcome))
        }
        return outcome
    }

    suspend fun enroll(link: String) = attempt {
        val token = currentPushToken(settings)
        val enrolled = approvals { it.enroll(link, Build.MODEL ?: "Android", pushToken = token) }
        _message.value = app.getString(R.string.message_registered, enrolled.displayName, enrolled.username)
        refreshEnrollment()
        reloadAccounts()
    }

    suspend fun unenroll() = attempt {
        approvals { it.unenroll() }
        // The next registration makes a fresh device key.
        withContext(Dispatchers.IO) { deviceSigner.deleteKey() }
        refreshEnrollment()
    }

    /** Adds or removes the Keystore slot; call right after the user confirmed. */
    suspend fun setDeviceKeyUnlock(on: Boolean) = attempt {
        val current = requireVault()
        if (on) {
            current.addKeyWrapperSlot(keyWrapper)
        } else {
            val ids = current.slots().filter { it.keyId == keyWrapper.keyId() }.map { it.id }
            withContext(Dispatchers.IO) { ids.forEach { current.vault.removeSlot(it) } }
            keyWrapper.deleteKey()
        }
        settings.deviceKeyUnlock = on
    }

    /**
     * Moves the vault between the backed-up and the never-backed-up folder. The vault is
     * closed for the move and must be unlocked again.
     */
    suspend fun setIncludeInBackup(on: Boolean) = attempt {
        if (on == settings.includeInBackup) return@attempt
        val from = vaultFile(settings.includeInBackup)
        val to = vaultFile(on)
        vault?.let { it.lock(); it.close() }
        vault = null
        withContext(Dispatchers.IO) {
            for (suffix in listOf("", "-wal", "-shm")) {
                val source = File(from.path + suffix)
                if (source.exists() && !source.renameTo(File(to.path + suffix))) {
                    throw AppException(R.string.error_move_vault)
                }
            }
        }
        settings.includeInBackup = on
        vault = CityAuthVault.open(to.path)
        lock()
    }

    /** [passphrase] is wiped by the library when the call ends. */
    suspend fun changePassphrase(passphrase: CharArray) = attempt {
        // Keep device-key unlock working: its slot is re-wrapped for the new data key (the
        // change rotates the key, and a slot left with the old one would be removed).
        val keep = if (settings.deviceKeyUnlock) listOf(keyWrapper) else emptyList()
        requireVault().changePassphrase(passphrase, null, keep)
        _message.value = app.getString(R.string.message_passphrase_changed)
    }

    private suspend fun didUnlock() {
        _phase.value = Phase.UNLOCKED
        refreshEnrollment()
        reloadAccounts()
        if (wakePending) {
            wakePending = false
            wake()
        }
    }

    private suspend fun reloadAccounts() {
        _accounts.value = requireVault().accounts()
    }

    private suspend fun refreshEnrollment() {
        _enrollment.value = withContext(Dispatchers.IO) { requireVault().vault.enrollment() }
    }

    private suspend fun <T> approvals(block: suspend (CityAuthApprovals) -> T): T =
        // The platform's HTTP stack (its trust store, network security config and proxies) and
        // the Keystore's device key.
        CityAuthApprovals(requireVault(), UrlConnectionTransport(), signer = deviceSigner).use { block(it) }

    private fun requireVault(): CityAuthVault =
        vault ?: throw AppException(R.string.error_no_vault)

    /**
     * Runs [block]; a failure becomes the message shown to the user, in their language
     * ([errorMessage]), and its English text goes to the log. True on success.
     */
    private suspend fun attempt(block: suspend () -> Unit): Boolean =
        try {
            block()
            true
        } catch (e: CityAuthException) {
            failed(e)
        } catch (e: KeyWrapException) {
            failed(e)
        } catch (e: InternalException) {
            failed(e)
        } catch (e: AppException) {
            failed(e)
        } catch (e: IllegalStateException) {
            if (e is CancellationException) throw e // a cancelled coroutine is not a failure
            failed(e)
        }

    private fun failed(e: Exception): Boolean {
        // The core's toString() is its readable English detail, never a secret.
        Log.w(TAG, e.toString())
        _message.value = app.errorMessage(e)
        return false
    }

    private companion object {
        const val TAG = "cityauth"
    }
}

/** The message for the server's outcome of an answer ("approved", "denied", "fraud_reported"). */
@StringRes
private fun outcomeMessage(outcome: String?): Int = when (outcome) {
    "approved" -> R.string.message_answer_approved
    "denied" -> R.string.message_answer_denied
    "fraud_reported" -> R.string.message_answer_fraud
    else -> R.string.message_answer_sent
}
