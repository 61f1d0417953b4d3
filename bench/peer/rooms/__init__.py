"""The tutorial's room chat."""
