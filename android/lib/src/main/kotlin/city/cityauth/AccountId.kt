package city.cityauth

import city.cityauth.ffi.AccountCode
import city.cityauth.ffi.AccountInfo
import city.cityauth.ffi.Enrolled
import city.cityauth.ffi.ExportRefusal
import city.cityauth.ffi.ImportDuplicate

/**
 * The id of an account in one vault: what [CityAuthVault] takes and returns for an account,
 * so that an account id cannot be mixed up with a slot id, a position or a counter. No
 * allocation on the JVM (an inline value class over the native `Long`).
 */
@JvmInline
value class AccountId(
    /** The native id (`AccountInfo.id`, `AccountCode.id`). */
    val value: Long,
) {
    override fun toString(): String = value.toString()
}

/** This account's id. */
val AccountInfo.accountId: AccountId get() = AccountId(id)

/** The id of the account this code belongs to. */
val AccountCode.accountId: AccountId get() = AccountId(id)

/** The vault account an import entry repeats; null when it repeats an earlier entry of the file. */
val ImportDuplicate.existingAccountId: AccountId? get() = existingId?.let(::AccountId)

/** The vault account a Google export left out. */
val ExportRefusal.accountId: AccountId get() = AccountId(id)

/** The City account's own codes, when the server issued them at enrollment. */
val Enrolled.cityAccountId: AccountId? get() = cityAccount?.let(::AccountId)
