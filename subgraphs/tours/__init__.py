"""Scheduled tours sold by the seat (seed 004): tours, schedules, departures, bookings, waitlist."""
