"""The retention loop: control groups, the measured effect of each play, advisors' call lists."""
