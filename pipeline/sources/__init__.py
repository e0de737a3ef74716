"""LOAD stage: read chapters and bibliographies into plain values with positions."""
