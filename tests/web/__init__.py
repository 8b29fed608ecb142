"""Tests of the web console and the JSON API."""
