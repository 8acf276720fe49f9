"""Step 5: reinfusion. Doses planned from a released culture, dates proposed and
confirmed (then locked), the day itself (clearance, bedside identity check,
administration), follow-up contacts and adverse events."""
