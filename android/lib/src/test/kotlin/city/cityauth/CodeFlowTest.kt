package city.cityauth

import kotlinx.coroutines.flow.take
import kotlinx.coroutines.flow.toList
import kotlinx.coroutines.runBlocking
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Assertions.assertTrue
import org.junit.jupiter.api.Test

class CodeFlowTest {
    @Test
    fun `codeUpdates emits every account's code once a second with the countdown`() = runBlocking<Unit> {
        CityAuthVault.create(newVaultPath(), "test passphrase".toCharArray(), CHEAP_KDF).use { vault ->
            val a = vault.addFromLink("otpauth://totp/A:a?secret=${Rfc6238.SHA1}")
            val b = vault.addFromLink("otpauth://totp/B:b?secret=JBSWY3DPEHPK3PXP&period=60")
            vault.addFromLink("otpauth://hotp/C:c?secret=JBSWY3DPEHPK3PXP&counter=0")
            val firstSecond = vault.vault.serverNow()
            val started = System.nanoTime()
            val updates = vault.codeUpdates().take(3).toList()
            val seconds = (System.nanoTime() - started) / 1e9
            val lastSecond = vault.vault.serverNow()
            assertTrue(seconds in 1.0..5.0, "three updates took $seconds s")
            for (codes in updates) {
                assertEquals(listOf(a, b), codes.map { it.accountId })
                assertEquals(listOf(30u, 60u), codes.map { it.period })
                assertTrue(codes.all { it.remaining in 1uL..it.period.toULong() })
            }
            // Each update is one second after the last: the countdown steps by one (mod period).
            for ((before, after) in updates.zipWithNext()) {
                val step = (before[1].remaining.toLong() - after[1].remaining.toLong() + 60) % 60
                assertEquals(1L, step, "countdown went ${before[1].remaining} -> ${after[1].remaining}")
            }
            // Each update is what the vault gives at some second while the flow ran.
            val window = (firstSecond..lastSecond).map { vault.vault.codesAt(it) }
            for (codes in updates) assertTrue(codes in window, "$codes not drawn in $firstSecond..$lastSecond")
        }
    }
}
