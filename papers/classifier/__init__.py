"""The topic classifier: which of the default topics a paper is substantially about.

`text` turns a paper into the features the model reads, `model` scores papers with a trained
model (numpy only: it runs in the workers that store papers), `training` fits one from the
labelled set (papers/topic_labels) and curators' marks (scikit-learn, in a command or task),
`store` keeps trained models and the papers' scores in the database.
"""
