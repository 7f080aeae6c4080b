"""IPA FE / SG exams run by CBT-Solutions (rulebook: cbt-ipa-candidate-terms.txt, rules IPA-*)."""
