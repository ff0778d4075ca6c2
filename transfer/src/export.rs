//! TODO: export as otpauth links and Google Authenticator migration links.
