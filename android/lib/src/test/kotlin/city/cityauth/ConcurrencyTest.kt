package city.cityauth

import city.cityauth.ffi.Vault
import java.util.concurrent.Callable
import java.util.concurrent.Executors
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class ConcurrencyTest {
    @Test
    fun `8 threads calling codes 10,000 times each all get the right codes`() {
        Vault.create(newVaultPath(), "test passphrase", CHEAP_KDF).use { vault ->
            val ids = (0 until 5).map { vault.addFromLink("otpauth://totp/Svc$it:user?secret=${Rfc6238.SHA1}&digits=8") }
            val pool = Executors.newFixedThreadPool(8)
            try {
                val tasks = (0 until 8).map { thread ->
                    Callable {
                        var wrong = 0
                        repeat(10_000) { i ->
                            // RFC 6238: T = 59 -> 94287082, T = 1234567890 -> 89005924.
                            val (time, expected) = if ((i + thread) % 2 == 0) 59uL to "94287082" else 1234567890uL to "89005924"
                            val codes = vault.codesAt(time)
                            if (codes.map { it.id } != ids || codes.any { it.code != expected }) wrong++
                        }
                        wrong
                    }
                }
                val wrong = pool.invokeAll(tasks).sumOf { it.get() }
                assertEquals(0, wrong)
            } finally {
                pool.shutdown()
            }
        }
    }
}
