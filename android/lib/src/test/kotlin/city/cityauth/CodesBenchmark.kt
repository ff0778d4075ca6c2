package city.cityauth

import city.cityauth.ffi.Vault
import city.cityauth.ffi.measureCodesInRust
import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Tag
import org.junit.jupiter.api.Test

/**
 * All codes of 100 accounts in one call, from Kotlin through JNA against the same loop inside
 * Rust, in one run on one vault. Not part of `mvn test`; run it on the release library:
 *
 *   ./bindings/build-bindings.sh --release && \
 *     mvn -f android/lib/pom.xml test -Dcargo.profile=release -Dgroups=benchmark -Dexcluded.groups=none
 */
@Tag("benchmark")
class CodesBenchmark {
    @Test
    fun `codes for 100 accounts, Kotlin through the bindings against Rust`() {
        Vault.create(newVaultPath(), "bench passphrase", CHEAP_KDF).use { vault ->
            repeat(100) { vault.addFromLink("otpauth://totp/Service$it:user$it?secret=${Rfc6238.SHA1}") }
            val time = 1_234_567_890uL
            assertEquals(100, vault.codesAt(time).size)
            val iterations = 20_000
            repeat(3) {
                // Warm-up rounds let the JIT compile the generated converters.
                repeat(iterations) { vault.codesAt(time) }
                measureCodesInRust(vault, time, iterations.toUInt())
            }
            val rounds = (1..5).map {
                val started = System.nanoTime()
                repeat(iterations) { vault.codesAt(time) }
                val kotlin = (System.nanoTime() - started).toDouble() / iterations
                val rust = measureCodesInRust(vault, time, iterations.toUInt()).toDouble() / iterations
                kotlin to rust
            }
            val kotlin = rounds.minOf { it.first }
            val rust = rounds.minOf { it.second }
            println(
                "BENCHMARK codes(100 accounts): Kotlin via JNA %.2f us/call, Rust %.2f us/call, overhead %.2f us/call, ratio %.2f (best of 5 rounds of %d, library %s)"
                    .format(kotlin / 1e3, rust / 1e3, (kotlin - rust) / 1e3, kotlin / rust, iterations, System.getProperty("jna.library.path")),
            )
        }
    }
}
