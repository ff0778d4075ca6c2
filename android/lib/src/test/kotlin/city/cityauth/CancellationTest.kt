package city.cityauth

import city.cityauth.ffi.KdfSettings
import java.io.File
import kotlinx.coroutines.CoroutineStart
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.launch
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

/**
 * What cancelling a blocking vault call does (CityAuthVault's class documentation): the native
 * call is not interrupted, the caller resumes once it returns, and what it did stays done. The
 * cancellation of a long poll, which returns at once, is in [PendingFlowTest].
 */
class CancellationTest {
    /** Argon2id dear enough to take a while (64 MiB, 3 passes). */
    private val slow = KdfSettings(64u * 1024u, 3u, 1u)

    @Test
    fun `a create cancelled during its KDF runs to its end, wipes the passphrase, and leaves a whole vault`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "warm-up words".toCharArray(), CHEAP_KDF).close()  // loads the library
        val reference = System.nanoTime()
        CityAuthVault.create(newVaultPath(), "reference words".toCharArray(), slow).close()
        val kdfMillis = (System.nanoTime() - reference) / 1_000_000
        check(kdfMillis >= 100) { "the KDF took only $kdfMillis ms: too quick to cancel in the middle" }

        val path = newVaultPath()
        val passphrase = "cancelled words".toCharArray()
        val started = System.nanoTime()
        val job = launch(Dispatchers.Default, start = CoroutineStart.UNDISPATCHED) {
            CityAuthVault.create(path, passphrase, slow).close()
            error("a cancelled create returned its vault")
        }
        delay(kdfMillis / 4)
        job.cancel()
        job.join()
        val tookMillis = (System.nanoTime() - started) / 1_000_000

        assertTrue(job.isCancelled)
        assertTrue(tookMillis >= kdfMillis / 2, "the caller resumed after $tookMillis ms: the KDF alone takes $kdfMillis ms")
        assertTrue(passphrase.all { it == '\u0000' }, "the passphrase of a cancelled create was not wiped")
        // The native call ran to its end: the file is a whole vault that opens with the passphrase.
        assertTrue(File(path).exists())
        CityAuthVault.open(path).use { it.unlock("cancelled words".toCharArray()) }
    }
}
