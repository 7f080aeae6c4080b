"""Prometric Japan IT exams: change / cancel rules (PRM-*) as an exam-portal plugin."""
