"""Reference files in: one loader per public file family (NPPES, DAC, LEIE, boards)."""
