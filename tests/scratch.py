"""A small scratch project (made-up papers, not the seeds) for what the seeds cannot show: a
corporate author, a retracted and a corrected paper, two reviews sharing references, an author with
an ORCID, and titles that try to break out of HTML and of a JSON-LD script element."""

from __future__ import annotations

from pathlib import Path

from sitetools import write_files

EVIL_TITLE = "Tricky <script>alert(1)</script> & friends: a randomised trial"

FILES = {
    "ketsite.yaml": """
        title: Scratch evidence
        description: A scratch site for tests.
        url: https://scratch.example.org/
    """,
    "bib/scratch.bib": r"""
        @article{iasp2019classification,
          author  = {{International Association for the Study of Pain}},
          title   = {Classification of chronic pain},
          journal = {Pain},
          year    = {2019},
          volume  = {160},
          number  = {1},
          pages   = {28--37},
          doi     = {10.1000/scratch.1},
        }

        @article{smith2020tricky,
          author  = {Smith, Jane and Doe, John},
          title   = {Tricky <script>alert(1)</script> \& friends: a randomised trial},
          journal = {Journal of Tests \& Trials},
          year    = {2020},
          date    = {2020-03-05},
          volume  = {3},
          number  = {2},
          pages   = {10--19},
          doi     = {10.1000/scratch.2},
          pmid    = {12345678},
        }

        @article{breakout2020json,
          author  = {Doe, John},
          title   = {Ends early </script><script>alert("x")</script> or not},
          journal = {Pain},
          year    = {2020},
        }

        @article{roe2018retracted,
          author  = {Roe, Richard},
          title   = {A trial that was retracted},
          journal = {Pain},
          year    = {2018},
        }

        @article{roe2017corrected,
          author  = {Roe, Richard},
          title   = {A trial that was corrected},
          journal = {Pain},
          year    = {2017},
        }

        @article{alpha2015study,
          author  = {Alpha, Ann},
          title   = {Study alpha},
          journal = {Pain},
          year    = {2015},
        }

        @article{beta2016study,
          author  = {Beta, Bob},
          title   = {Study beta},
          journal = {Pain},
          year    = {2016},
        }

        @article{gamma2017study,
          author  = {Gamma, Gil},
          title   = {Study gamma},
          journal = {Pain},
          year    = {2017},
        }

        @article{delta2014study,
          author  = {Delta, Dee},
          title   = {Study delta},
          journal = {Pain},
          year    = {2014},
        }

        @article{reviewa2021,
          author  = {Smith, Jane},
          title   = {Review A},
          journal = {Pain},
          year    = {2021},
        }

        @article{reviewb2022,
          author  = {Zed, Zoe},
          title   = {Review B},
          journal = {Pain},
          year    = {2022},
        }
    """,
    "content/reviews/review-a.yaml": """
        paper: reviewa2021
        licence: CC-BY-4.0
        conditions: [scratch-pain]
        references: [alpha2015study, beta2016study, gamma2017study]
    """,
    "content/reviews/review-b.yaml": """
        paper: reviewb2022
        licence: CC-BY-4.0
        conditions: [scratch-pain]
        references: [beta2016study, delta2014study, alpha2015study]
    """,
    "content/conditions/scratch-pain.yaml": """
        name: Scratch pain
        description: A made-up condition.
        papers: [smith2020tricky, roe2018retracted, roe2017corrected, iasp2019classification]
    """,
    "content/papers/roe2018retracted.yaml": """
        design: randomised-controlled-trial
        status: retracted
        status_note: Retracted by the journal in 2019.
    """,
    "content/papers/roe2017corrected.yaml": """
        status: corrected
        status_note: A correction to table 2 was published.
    """,
    "content/papers/smith2020tricky.yaml": """
        design: randomised-controlled-trial
        population: Adults with scratch pain
        sample_size: 40
        route: [intravenous]
        direction: benefit
    """,
    "content/papers/iasp2019classification.yaml": """
        design: classification
        direction: not-applicable
    """,
    "content/authors/smith-jane.yaml": """
        name: Smith, Jane
        orcid: 0000-0002-1825-0097
        affiliation: Scratch University
    """,
}


def make_scratch_project(root: Path) -> Path:
    return write_files(root, FILES)
