package city.cityauth

import city.cityauth.ffi.CityAuthException
import city.cityauth.ffi.ImportPreview
import city.cityauth.ffi.ImportReport
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.withContext

/**
 * An import read and set against the vault, not yet written: show [report] (what will be
 * added, what is already there, what cannot be read and where), then [commit] on the user's
 * yes. Made by [CityAuthVault.previewImport]; holds no secret in [report].
 */
class CityAuthImport internal constructor(
    /** The generated binding. */
    val preview: ImportPreview,
    /** What [commit] adds, skips and refuses. */
    val report: ImportReport,
    private val dispatcher: CoroutineDispatcher,
) : AutoCloseable {
    /**
     * The format the file was read as (the one asked for, or the one detected). Null only if
     * the native library reads a format newer than this Kotlin knows; `report.format` has its name.
     */
    val format: ImportFormat? get() = ImportFormat.fromCoreName(report.format)

    /**
     * Adds [report]'s `toAdd` accounts in one transaction (all or none); returns their ids in
     * file order. Throws [CityAuthException.AlreadyCommitted] when called again after a
     * success; after a failure (e.g. [CityAuthException.Locked]) nothing was added and it
     * may be retried.
     */
    suspend fun commit(): List<AccountId> = withContext(dispatcher) { preview.commit().map(::AccountId) }

    /** Releases the native preview and the accounts it holds. */
    override fun close() = preview.close()
}
