# Shared by every page: the layout and the language switch.
lang-switch-label = Language
lang-switch-current = Current language: { $language }
site-name = City account
