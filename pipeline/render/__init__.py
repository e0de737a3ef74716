"""RENDER: one Pandoc AST per edition into HTML, PDF and EPUB files."""
