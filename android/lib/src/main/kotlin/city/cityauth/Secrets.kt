package city.cityauth

import city.cityauth.ffi.CityAuthException
import java.nio.ByteBuffer
import java.nio.CharBuffer
import java.nio.charset.CodingErrorAction

// Passphrases and passwords arrive as the caller's arrays and go to the native library as
// UTF-8 bytes (uniffi `bytes`): JNA writes them straight into a buffer that Rust owns and
// wipes (bindings/src/secret.rs, `SecretUtf8`), so no JVM `String` of the secret is made.

/**
 * Runs [block] with the UTF-8 bytes of these characters, then wipes both the characters and
 * the bytes, also when [block] throws or its coroutine is cancelled. A lone surrogate (not
 * text) is [CityAuthException.InvalidInput] for [field], and the characters are wiped too.
 */
internal inline fun <T> CharArray.useAsUtf8(field: String, block: (ByteArray) -> T): T {
    try {
        val utf8 = encodeUtf8(this, field)
        try {
            return block(utf8)
        } finally {
            utf8.fill(0)
        }
    } finally {
        fill('\u0000')
    }
}

/** Runs [block] with these bytes, then wipes them, also when [block] throws. */
internal inline fun <T> ByteArray.useAndWipe(block: (ByteArray) -> T): T {
    try {
        return block(this)
    } finally {
        fill(0)
    }
}

/** The UTF-8 form of [chars] in an array of its exact size; no other copy is left unwiped. */
internal fun encodeUtf8(chars: CharArray, field: String): ByteArray {
    // Three bytes per UTF-16 unit is the most UTF-8 needs (a surrogate pair: four for two).
    val room = ByteArray(chars.size * 3)
    try {
        val out = ByteBuffer.wrap(room)
        val encoder = Charsets.UTF_8.newEncoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
        val input = CharBuffer.wrap(chars)
        val result = encoder.encode(input, out, true)
        if (result.isError || encoder.flush(out).isError) {
            throw CityAuthException.InvalidInput(field, "$field: not valid text (a lone UTF-16 surrogate)")
        }
        return room.copyOf(out.position())
    } finally {
        room.fill(0)
    }
}
