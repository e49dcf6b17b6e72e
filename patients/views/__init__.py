"""Views of the chart (`chart`), intake (`intake`), episodes and candidacy (`episodes`), consent (`consent`)."""
