"""What a person looks at: figures (:mod:`.plots`), widget panels (:mod:`.widgets`), the notebook
runner (:mod:`.notebooks`) and offline HTML reports (:mod:`.report`)."""
