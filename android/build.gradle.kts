// Plugin versions for the app module; applied in app/build.gradle.kts.
// Kotlin matches android/lib/pom.xml (kotlin.version), so the app compiles the library's
// sources with the compiler the JVM tests use.
plugins {
    id("com.android.application") version "8.13.0" apply false
    id("org.jetbrains.kotlin.android") version "2.4.21" apply false
    id("org.jetbrains.kotlin.plugin.compose") version "2.4.21" apply false
    id("com.google.gms.google-services") version "4.4.3" apply false
}
