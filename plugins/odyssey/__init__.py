"""Odyssey Communications on-demand exams (随時試験) at a school venue: rules ODY-*."""
