from learningday.cli import main

main()
