"""JSTC 技術英語能力検定 group applications (団体受験, rules JST-*) as an exam-portal plugin."""
