package city.cityauth.app

import android.content.Context
import androidx.annotation.StringRes
import city.cityauth.ffi.CityAuthException
import city.cityauth.ffi.KeyWrapException
import city.cityauth.ffi.errorCode

/** A failure of the app itself (not of the core), with the message to show. */
class AppException(@StringRes val messageRes: Int) : Exception()

/**
 * The string for a stable error code of the core (docs/error-codes.md); null for a code this
 * app does not know yet (a newer core), which then gets the general message.
 */
@StringRes
fun errorMessageRes(code: String): Int? = when (code) {
    "not_found" -> R.string.error_not_found
    "already_exists" -> R.string.error_already_exists
    "not_a_vault" -> R.string.error_not_a_vault
    "wrong_passphrase" -> R.string.error_wrong_passphrase
    "locked" -> R.string.error_locked
    "no_matching_slot" -> R.string.error_no_matching_slot
    "key_store" -> R.string.error_key_store
    "integrity" -> R.string.error_integrity
    "invalid_link" -> R.string.error_invalid_link
    "invalid_input" -> R.string.error_invalid_input
    "unknown_account" -> R.string.error_unknown_account
    "wrong_account_kind" -> R.string.error_wrong_account_kind
    "busy" -> R.string.error_busy
    "storage" -> R.string.error_storage
    "network" -> R.string.error_network
    "server_refused" -> R.string.error_server_refused
    "server_untrusted" -> R.string.error_server_untrusted
    "expired" -> R.string.error_expired
    "wrong_number_format" -> R.string.error_wrong_number_format
    "not_enrolled" -> R.string.error_not_enrolled
    "already_enrolled" -> R.string.error_already_enrolled
    "password_required" -> R.string.error_password_required
    "wrong_password" -> R.string.error_wrong_password
    "damaged_file" -> R.string.error_damaged_file
    "unknown_format" -> R.string.error_unknown_format
    "unsupported_file" -> R.string.error_unsupported_file
    "missing_batch_parts" -> R.string.error_missing_batch_parts
    "already_committed" -> R.string.error_already_committed
    "cancelled" -> R.string.error_cancelled
    else -> null
}

/**
 * What to tell the user about [error], in their language: the sentence for the core's stable
 * code (read with the exported `errorCode`), or the general one. The core's English `detail`
 * is for logs.
 */
fun Context.errorMessage(error: Throwable): String = when {
    error is CityAuthException.WrongNumberFormat ->
        getString(R.string.error_wrong_number_format, error.digits.toInt())
    error is CityAuthException.ServerRefused && error.code == "wrong_number" ->
        getString(R.string.error_server_refused_wrong_number)
    error is CityAuthException -> {
        val code = runCatching { errorCode(error) }.getOrNull()
        getString(code?.let(::errorMessageRes) ?: R.string.error_generic)
    }
    error is KeyWrapException -> getString(R.string.error_key_store)
    error is AppException -> getString(error.messageRes)
    else -> getString(R.string.error_generic)
}
