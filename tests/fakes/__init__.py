"""Loopback stand-ins for the services the bot talks to; tests never reach the internet."""
