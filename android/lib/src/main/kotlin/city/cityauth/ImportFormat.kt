package city.cityauth

/**
 * The file formats the core's importer reads (cityauth-transfer's `Format`; docs/import.md
 * says what each holds and refuses). Pass one to [CityAuthVault.previewImport], or null to let
 * the core detect the format; [CityAuthImport.format] is the one the file was read as.
 */
enum class ImportFormat(
    /** The core's name for it (the CLI's `--format`, the FFI's `format` string). */
    val coreName: String,
) {
    /** A text file of otpauth links, one a line; `otpauth-migration://` lines (Google Authenticator) among them are read as one export. */
    OTPAUTH_LINKS("links"),

    /** Aegis vault JSON, plain or encrypted (needs the password). */
    AEGIS("aegis"),

    /** 2FAS `.2fas`, plain or encrypted. */
    TWO_FAS("2fas"),

    /** andOTP JSON, or its encrypted `.bin` backup. */
    AND_OTP("andotp"),

    /** Bitwarden's JSON export (the TOTP field of each login). */
    BITWARDEN_JSON("bitwarden-json"),

    /** Bitwarden's CSV export (the `login_totp` column). */
    BITWARDEN_CSV("bitwarden-csv"),

    /** FreeOTP+ JSON. */
    FREE_OTP_PLUS("freeotp-plus"),

    /** Proton Authenticator JSON. */
    PROTON("proton"),

    /** cityauth's own encrypted backup ([CityAuthVault.backup]). */
    CITYAUTH_BACKUP("cityauth"),
    ;

    companion object {
        /** The format the core calls [name]; null for a name this library does not know. */
        fun fromCoreName(name: String): ImportFormat? = entries.firstOrNull { it.coreName == name }
    }
}
