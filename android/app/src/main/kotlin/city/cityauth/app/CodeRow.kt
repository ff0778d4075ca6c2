package city.cityauth.app

import city.cityauth.ffi.AccountCode
import city.cityauth.ffi.AccountInfo

/** One row of the account list: the account and, for time-based ones, its current code. */
data class CodeRow(val account: AccountInfo, val code: AccountCode?) {
    /** The core's label: "Issuer (name)", or whichever of the two is present. */
    val title: String
        get() = account.label

    /** The code in two halves ("287 082"); empty for HOTP. */
    val displayedCode: String
        get() = code?.code?.let { it.substring(0, it.length / 2) + " " + it.substring(it.length / 2) } ?: ""

    /** The share of the period left, 1 (fresh) to 0, for the countdown ring. */
    val progress: Float
        get() = code?.let { if (it.period == 0u) 0f else it.remaining.toFloat() / it.period.toFloat() } ?: 0f
}

/** Joins the accounts with one batch of codes, in the accounts' order. */
fun codeRows(accounts: List<AccountInfo>, codes: List<AccountCode>): List<CodeRow> {
    val byId = codes.associateBy { it.id }
    return accounts.map { CodeRow(it, byId[it.id]) }
}
