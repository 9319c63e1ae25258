"""Built-in Chinese demo data: a sample of real Zhaopin / Lagou postings and Zhaopin seekers in their raw formats
(see README.md here; rebuilt by `python -m matcher.demo_data.cn.build`)."""
