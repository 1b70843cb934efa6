"""Long jobs of harnessgym and the processes they own."""
