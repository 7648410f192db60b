"""Zero-configuration discovery: what a page is (classify), how a site's URLs are shaped
(templates), and which shapes are worth crawling (learner)."""
