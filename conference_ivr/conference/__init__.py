"""The live conferences: who is in each (from AMI), announcements into them, their booked end
and the mobile cap, usage records, dial-out calls, and the port the web pages use."""
