# Compartido por todas las páginas: la plantilla y el selector de idioma.
lang-switch-label = Idioma
lang-switch-current = Idioma actual: { $language }
site-name = Cuenta de la Ciudad
