"""Task attachments: images, text and PDF files, and URLs fetched at hydration; checked, stored, referenced."""
