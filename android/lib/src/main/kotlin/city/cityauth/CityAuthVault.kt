package city.cityauth

import city.cityauth.ffi.AccountCode
import city.cityauth.ffi.AccountInfo
import city.cityauth.ffi.CityAuthException
import city.cityauth.ffi.GoogleExport
import city.cityauth.ffi.HostKeyWrapper
import city.cityauth.ffi.ImportCancel
import city.cityauth.ffi.KdfSettings
import city.cityauth.ffi.NewAccount
import city.cityauth.ffi.SlotInfo
import city.cityauth.ffi.Vault
import kotlin.coroutines.cancellation.CancellationException
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.awaitCancellation
import kotlinx.coroutines.coroutineScope
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.launch
import kotlinx.coroutines.withContext

/**
 * The vault with suspend functions: each blocking call of the native [Vault] (SQLite, the
 * Argon2id KDF) runs on [dispatcher], [Dispatchers.IO] unless given. Every function throws
 * [CityAuthException] subclasses; their `detail` is a message fit for the user.
 *
 * The native [vault] is thread-safe and may also be called directly from a background thread.
 *
 * Passphrases and passwords are taken as `CharArray` (what a password field can give) or as
 * UTF-8 `ByteArray`, and wiped (`fill`) as soon as the call ends, whether it succeeds, throws
 * or is cancelled. The characters are encoded into a byte array that is wiped too; JNA writes
 * those bytes directly into a native buffer that the Rust side takes as the secret's own
 * storage and wipes when the call ends. No JVM `String` of the secret is made here. What this
 * cannot reach: copies made before the array was handed in (an `EditText`'s `Editable`, a
 * Compose `String` state), and the JVM's own memory that the GC moved an array out of.
 *
 * Cancellation: every function here except [lock], [isUnlocked] and [close] is a blocking
 * native call (SQLite; the Argon2id KDF, about a second, in [create], [unlock] with a
 * passphrase, [changePassphrase], [backup] and an encrypted import) run with
 * `withContext(dispatcher)`. Cancelling the calling coroutine does not interrupt a native
 * call in progress (`runInterruptible` would not help: a thread inside JNA ignores
 * interrupts): the caller resumes with `CancellationException` once the call has returned,
 * and what the call did stays done. A cancelled [create] may have made the vault file (it
 * opens with the passphrase; the native object is closed), a cancelled [changePassphrase] may
 * have changed the passphrase, a cancelled [nextHotp] may have used a counter value. The one
 * exception is [previewImport], which trips the native import's cancel handle so it stops at
 * its next check. Passphrase arrays are wiped in every case.
 */
class CityAuthVault private constructor(
    /** The generated binding, for the calls that have no wrapper here. */
    val vault: Vault,
    private val dispatcher: CoroutineDispatcher,
) : AutoCloseable {
    companion object {
        /**
         * Creates a vault file at [path] (which must not exist) and returns it unlocked.
         * [passphrase] is wiped (all `'\u0000'`) when the call ends, also when it throws; see
         * the class documentation for the copies that remain.
         */
        suspend fun create(
            path: String,
            passphrase: CharArray,
            kdf: KdfSettings? = null,
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): CityAuthVault = passphrase.useAsUtf8("passphrase") { create(path, it, kdf, dispatcher) }

        /** [create] with the passphrase as UTF-8 bytes, wiped (all zeros) when the call ends. */
        suspend fun create(
            path: String,
            passphraseUtf8: ByteArray,
            kdf: KdfSettings? = null,
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): CityAuthVault = passphraseUtf8.useAndWipe { utf8 ->
            native(dispatcher) { Vault.createUtf8(path, utf8, kdf) }
        }

        /** Opens the vault file at [path], locked. */
        suspend fun open(
            path: String,
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): CityAuthVault = native(dispatcher) { Vault.open(path) }

        /**
         * Runs [make] on [dispatcher]. A caller cancelled meanwhile still waits for it (a native
         * call cannot be interrupted), then gets `CancellationException`; the native vault made
         * for nobody is closed here rather than left to the garbage collector.
         */
        private suspend fun native(dispatcher: CoroutineDispatcher, make: () -> Vault): CityAuthVault {
            var made: Vault? = null
            try {
                withContext(dispatcher) { made = make() }
            } catch (e: CancellationException) {
                made?.close()
                throw e
            }
            return CityAuthVault(checkNotNull(made), dispatcher)
        }
    }

    private suspend fun <T> io(block: () -> T): T = withContext(dispatcher) { block() }

    /**
     * Unlocks with the passphrase; throws [CityAuthException.WrongPassphrase]. [passphrase] is
     * wiped when the call ends, also when it throws.
     */
    suspend fun unlock(passphrase: CharArray) = passphrase.useAsUtf8("passphrase") { unlock(it) }

    /** [unlock] with the passphrase as UTF-8 bytes, wiped when the call ends. */
    suspend fun unlock(passphraseUtf8: ByteArray) = passphraseUtf8.useAndWipe { utf8 ->
        io { vault.unlockWithPassphraseUtf8(utf8) }
    }

    /** Unlocks through the host's key (Keystore, Keychain) without the passphrase. */
    suspend fun unlock(wrapper: HostKeyWrapper) = io { vault.unlockWithKeyWrapper(wrapper) }

    /** Forgets the keys and decrypted accounts (e.g. when the app goes to the background). */
    fun lock() = vault.lock()

    /** True while unlocked. */
    val isUnlocked: Boolean get() = vault.isUnlocked()

    /** Adds a slot that [wrapper] unlocks; returns its id. */
    suspend fun addKeyWrapperSlot(wrapper: HostKeyWrapper): Long = io { vault.addKeyWrapperSlot(wrapper) }

    /**
     * Replaces the passphrase and rotates the data key (an old copy of the file opens nothing
     * with the old passphrase). Key-wrapper slots hold the old key: those of the host keys in
     * [keep] are re-wrapped for the new key (each key's wrap runs once), the others removed.
     * [newPassphrase] is wiped when the call ends, also when it throws. About a second (the KDF).
     */
    suspend fun changePassphrase(
        newPassphrase: CharArray,
        kdf: KdfSettings? = null,
        keep: List<HostKeyWrapper> = emptyList(),
    ) = newPassphrase.useAsUtf8("passphrase") { changePassphrase(it, kdf, keep) }

    /** [changePassphrase] with the new passphrase as UTF-8 bytes, wiped when the call ends. */
    suspend fun changePassphrase(
        newPassphraseUtf8: ByteArray,
        kdf: KdfSettings? = null,
        keep: List<HostKeyWrapper> = emptyList(),
    ) = newPassphraseUtf8.useAndWipe { utf8 ->
        io {
            if (keep.isEmpty()) vault.changePassphraseUtf8(utf8, kdf) else vault.changePassphraseKeepingUtf8(utf8, kdf, keep)
        }
    }

    /** The ways to unlock this vault. */
    suspend fun slots(): List<SlotInfo> = io { vault.slots() }

    /** Adds the account of an otpauth link (a scanned QR code); returns its id. */
    suspend fun addFromLink(link: String): AccountId = io { AccountId(vault.addFromLink(link)) }

    /** Adds an account typed in by hand; returns its id. */
    suspend fun addAccount(account: NewAccount): AccountId = io { AccountId(vault.addAccount(account)) }

    /** The accounts in the user's order (each one's [AccountInfo.accountId]). */
    suspend fun accounts(): List<AccountInfo> = io { vault.accounts() }

    /** Renames an account. */
    suspend fun rename(id: AccountId, issuer: String, name: String) = io { vault.rename(id.value, issuer, name) }

    /** Moves an account to [position] (0 is the top). */
    suspend fun move(id: AccountId, position: Int) = io { vault.moveAccount(id.value, position.coerceAtLeast(0).toUInt()) }

    /** Removes an account for good. */
    suspend fun remove(id: AccountId) = io { vault.remove(id.value) }

    /**
     * Forgets this device's City enrollment here only, without the server (gone, unreachable
     * or refusing); the City account's codes stay. The portal can still remove the device.
     */
    suspend fun forgetEnrollment() = io { vault.forgetEnrollment() }

    /** Every time-based account's current code (with its [AccountCode.accountId]), in one native call. */
    suspend fun codes(): List<AccountCode> = io { vault.codes() }

    /** The next code of an HOTP account (its counter is saved before the code is returned). */
    suspend fun nextHotp(id: AccountId): String = io { vault.nextHotp(id.value) }

    /**
     * Reads another authenticator's export (or a cityauth backup) and sets it against this
     * vault, writing nothing: show the returned [CityAuthImport.report], then commit it.
     * [format] null detects it (every [ImportFormat] is detected). [password]: the file's, when it is
     * encrypted; wiped when the call ends, also when it throws. Throws
     * [CityAuthException.PasswordRequired] for an encrypted file without [password] (ask,
     * call again), [CityAuthException.WrongPassword], [CityAuthException.DamagedFile],
     * [CityAuthException.UnknownFormat], [CityAuthException.UnsupportedFile],
     * [CityAuthException.MissingBatchParts], [CityAuthException.InvalidInput] (field "file":
     * past cityauth's bounds on entries, fields or key-derivation work).
     *
     * Cancelling the calling coroutine stops the native import at its next check (see
     * docs/import.md) instead of letting it run to its end on [dispatcher].
     */
    suspend fun previewImport(bytes: ByteArray, format: ImportFormat? = null, password: CharArray? = null): CityAuthImport =
        if (password == null) {
            previewImportWith(bytes, format, null)
        } else {
            password.useAsUtf8("password") { previewImportWith(bytes, format, it) }
        }

    /** [previewImport] with the file's password as UTF-8 bytes, wiped when the call ends. */
    suspend fun previewImport(bytes: ByteArray, format: ImportFormat?, passwordUtf8: ByteArray): CityAuthImport =
        passwordUtf8.useAndWipe { previewImportWith(bytes, format, it) }

    private suspend fun previewImportWith(bytes: ByteArray, format: ImportFormat?, passwordUtf8: ByteArray?): CityAuthImport =
        ImportCancel().use { cancel ->
            coroutineScope {
                // Trips the native handle when this scope is cancelled; stopped once the import returns.
                val watcher = launch(start = CoroutineStart.UNDISPATCHED) {
                    try {
                        awaitCancellation()
                    } finally {
                        cancel.cancel()
                    }
                }
                try {
                    io {
                        val name = format?.coreName
                        val preview = if (passwordUtf8 == null) {
                            vault.previewImportCancellable(bytes, name, null, cancel)
                        } else {
                            vault.previewImportWithPasswordUtf8(bytes, name, passwordUtf8, cancel)
                        }
                        CityAuthImport(preview, preview.report(), dispatcher)
                    }
                } finally {
                    watcher.cancel()
                }
            }
        }

    /**
     * A restore: [previewImport] of a cityauth backup made by [backup] with [passphrase]
     * (wiped when the call ends).
     */
    suspend fun previewRestore(bytes: ByteArray, passphrase: CharArray): CityAuthImport =
        previewImport(bytes, ImportFormat.CITYAUTH_BACKUP, passphrase)

    /**
     * Every account as a cityauth backup encrypted under [passphrase] (Argon2id, about a
     * second; the array is wiped when the call ends, also when it throws). Accounts only:
     * never the push-approval key nor the City enrollment.
     */
    suspend fun backup(passphrase: CharArray): ByteArray = passphrase.useAsUtf8("passphrase") { backup(it) }

    /** [backup] with the passphrase as UTF-8 bytes, wiped when the call ends. */
    suspend fun backup(passphraseUtf8: ByteArray): ByteArray = passphraseUtf8.useAndWipe { utf8 ->
        io { vault.backupUtf8(utf8) }
    }

    /**
     * Every account as an otpauth link, one a line. NOT encrypted: the text holds every
     * secret; keep it off logs and shared storage, and prefer [backup] for a copy to keep.
     */
    suspend fun exportLinks(): String = io { vault.exportLinks() }

    /**
     * Google Authenticator migration links (one QR code each) and, apart, the accounts Google
     * Authenticator cannot hold (show them: they are not in the links). NOT encrypted.
     */
    suspend fun exportGoogleLinks(): GoogleExport = io { vault.exportGoogleLinks() }

    /**
     * The codes of every time-based account, emitted now and then just after each second
     * turns, for as long as it is collected: the list screen's only source of codes.
     */
    fun codeUpdates(): Flow<List<AccountCode>> = flow {
        while (true) {
            emit(vault.codes())
            val millis = System.currentTimeMillis()
            // A few milliseconds past the second, so the next draw sees the new second.
            delay(1_000 - millis % 1_000 + 5)
        }
    }.flowOn(dispatcher)

    /** Releases the native vault (the file stays). */
    override fun close() = vault.close()
}
