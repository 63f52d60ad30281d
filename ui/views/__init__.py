"""The lab's views: training, runs, recipe panels and inspection."""
